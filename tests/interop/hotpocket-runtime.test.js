// Interop: the instance runtime against Hot Pocket's own npm packages, unmodified.
// Usage: node hotpocket-runtime.test.js <path-to-sashimono>
//
// `sashimono dev` runs contracts-samples/js-counter (hotpocket-nodejs-contract 0.7.4 inside our
// runtime); hotpocket-js-client 0.5.7 connects with the instance key as its only trusted server
// key, as the owner and as a second user, in JSON and in BSON: every input gets an `accepted`
// status and verified outputs (the client drops outputs whose proof fails), read requests,
// stat, lcl and ledger queries answer, ledger events arrive. Then the runtime restarts on the
// same workspace: the counter continues and the ledger chain is unbroken; a second version of
// the contract is loaded: the state is kept and the new code runs.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const HotPocket = require('hotpocket-js-client');
const { check } = require('./lib/devnet');
const { prepareJsSample, startDev } = require('./lib/instance');

const binary = process.argv[2];
if (!binary) { console.error('usage: node hotpocket-runtime.test.js <sashimono binary>'); process.exit(2); }
HotPocket.setLogLevel(2);  // the client logs validation failures at level 1: we count them instead

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`timeout: ${what}`); })]);

async function connect(dev, keys, protocol) {
  const client = await HotPocket.createClient([dev.url], keys, {
    protocol, trustedServerKeys: [dev.instanceKey], connectionTimeoutMs: 5000,
  });
  const outputs = [];
  const ledgers = [];
  client.on(HotPocket.events.contractOutput, (r) => outputs.push(r));
  client.on(HotPocket.events.ledgerEvent, (e) => ledgers.push(e));
  check(await withTimeout(client.connect(), 10000, 'connect'), `${protocol} client connects (handshake, trusted key)`);
  await client.subscribe(HotPocket.notificationChannels.ledgerEvent);
  return { client, outputs, ledgers };
}

async function waitFor(cond, ms, what) {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timeout waiting for ${what}`);
    await sleep(10);
  }
}

function outputsOf(c, seq) {
  return c.outputs.filter((o) => o.ledgerSeqNo === seq).flatMap((o) => o.outputs);
}

async function input(c, text, what) {
  const sub = await c.client.submitContractInput(text);
  const st = await withTimeout(sub.submissionStatus, 10000, what);
  check(st.status === 'accepted', `${what}: accepted (${JSON.stringify(st)})`);
  check(Number.isInteger(st.ledgerSeqNo) && st.ledgerSeqNo > 0, `${what}: ledger number`);
  await waitFor(() => outputsOf(c, st.ledgerSeqNo).length > 0, 10000, `${what}: verified output`);
  return { seq: st.ledgerSeqNo, outputs: outputsOf(c, st.ledgerSeqNo) };
}

function counterOf(outputs) {
  const m = outputs.map((o) => /^counter: (-?\d+)$/.exec(String(o))).find(Boolean);
  check(m, `a counter output among ${JSON.stringify(outputs)}`);
  return Number(m[1]);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sashimono-hp-'));
  let dev = null;
  try {
    const dir = prepareJsSample('js-counter', path.join(tmp, 'contract'));
    const workspace = path.join(tmp, 'ws');
    dev = await startDev(binary, dir, workspace);
    const owner = await HotPocket.generateKeys(dev.userKeyHex);
    const second = await HotPocket.generateKeys();
    let expected = 0;
    let lastSeq = 0;
    for (const protocol of ['json', 'bson']) {
      for (const [who, keys] of [['owner', owner], ['second user', second]]) {
        const c = await connect(dev, keys, protocol);
        const what = `${protocol} ${who}`;
        const r = await input(c, 'inc', `${what} inc`);
        expected += 1;
        check(counterOf(r.outputs) === expected, `${what}: counter ${expected}`);
        check(r.seq > lastSeq, `${what}: ledgers advance`);
        lastSeq = r.seq;
        const e = await input(c, 'echo hello ' + protocol, `${what} echo`);
        check(e.outputs.map(String).includes('Echo: hello ' + protocol), `${what}: echo output ${JSON.stringify(e.outputs)}`);
        lastSeq = e.seq;
        const read = await withTimeout(c.client.submitContractReadRequest('get'), 10000, `${what} read`);
        check(String(read) === `counter: ${expected}`, `${what}: read request answers ${read}`);
        const stat = await c.client.getStatus();
        check(stat.hpVersion.startsWith('0.6.') && stat.ledgerSeqNo === lastSeq, `${what}: stat ${JSON.stringify(stat)}`);
        check(Array.isArray(stat.currentUnl) && stat.currentUnl.length === 1, `${what}: stat UNL`);
        const lcl = await c.client.getLcl();
        check(lcl.ledgerSeqNo === lastSeq, `${what}: lcl ${lcl.ledgerSeqNo}`);
        const q = await c.client.getLedgerBySeqNo(r.seq, true, true);
        check(q && q.seqNo === r.seq, `${what}: ledger query ${JSON.stringify(q && q.seqNo)}`);
        check(Array.isArray(q.inputs) && q.inputs.length === 1, `${what}: ledger query inputs`);
        check(Array.isArray(q.outputs) && q.outputs.length === 1, `${what}: ledger query outputs`);
        await waitFor(() => c.ledgers.some((ev) => ev.ledger && ev.ledger.seqNo === e.seq), 5000, `${what}: ledger event`);
        // Two inputs in one message burst with explicit, increasing nonces: both accepted, in order.
        const n = Date.now();
        const a = await c.client.submitContractInput('inc', n, 10);
        const b = await c.client.submitContractInput('inc', n + 1, 10);
        const sa = await withTimeout(a.submissionStatus, 10000, 'burst a');
        const sb = await withTimeout(b.submissionStatus, 10000, 'burst b');
        check(sa.status === 'accepted' && sb.status === 'accepted', `${what}: a burst of two inputs accepted`);
        expected += 2;
        // A replayed nonce is refused.
        const old = await c.client.submitContractInput('inc', n, 10);
        const so = await withTimeout(old.submissionStatus, 10000, 'replayed nonce');
        check(so.status === 'rejected' && so.reason === 'nonce_expired', `${what}: an old nonce is refused (${JSON.stringify(so)})`);
        lastSeq = Math.max(sa.ledgerSeqNo, sb.ledgerSeqNo);
        await c.client.close();
      }
    }
    // Restart on the same workspace: state and ledger continue.
    await dev.stop();
    dev = await startDev(binary, dir, workspace);
    {
      const c = await connect(dev, second, 'json');
      const lcl = await c.client.getLcl();
      check(lcl.ledgerSeqNo >= lastSeq, `after a restart the ledger continues at ${lcl.ledgerSeqNo}`);
      const r = await input(c, 'inc', 'after restart');
      expected += 1;
      check(counterOf(r.outputs) === expected, `after a restart the counter continues (${expected})`);
      // The chain: each ledger names its predecessor's hash.
      let prev = await c.client.getLedgerBySeqNo(1, false, false);
      for (let s = 2; s <= r.seq; s++) {
        const l = await c.client.getLedgerBySeqNo(s, false, false);
        check(l && l.prevHash === prev.hash, `ledger ${s} chains to ledger ${s - 1}`);
        prev = l;
      }
      await c.client.close();
    }
    // A second version: state kept, new code runs.
    fs.writeFileSync(path.join(dir, 'index.js'),
      fs.readFileSync(path.join(dir, 'index.js'), 'utf8').replace(/`Echo: /g, '`Echo v2: '));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'contract.json'), 'utf8'));
    manifest.version = '2.0';
    fs.writeFileSync(path.join(dir, 'contract.json'), JSON.stringify(manifest));
    dev.reload();
    {
      const c = await connect(dev, owner, 'bson');
      await waitFor(() => dev.output().includes('reloading version 2.0'), 5000, 'reload');
      const e = await input(c, 'echo again', 'version 2 echo');
      check(e.outputs.map(String).includes('Echo v2: again'), `version 2 runs (${JSON.stringify(e.outputs.map(String))})`);
      const r = await input(c, 'inc', 'version 2 inc');
      expected += 1;
      check(counterOf(r.outputs) === expected, `version 2 keeps the state (${expected})`);
      await c.client.close();
    }
    const { code } = await dev.stop();
    check(code === 0, `sashimono dev exits 0 on SIGTERM (${code})`);
    console.log('hotpocket-runtime: all checks passed');
  } finally {
    // Even when a check failed: the instance must not outlive the test.
    if (dev && dev.proc.exitCode === null && dev.proc.signalCode === null) dev.proc.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
