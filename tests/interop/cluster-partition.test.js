// Interop: a partition of a five-member cluster (`sashimono runtime` processes on 127.0.0.1, the
// js-counter sample through hotpocket-nodejs-contract, clients of hotpocket-js-client).
// Usage: node cluster-partition.test.js <path-to-sashimono>
//
// Every link between two members goes through a relay of this test (member i reaches member j at
// relay (i, j), as its membership file says), so the test can cut any pair. The contract's
// threshold is 60 %: three of five close a ledger. Cut {0, 1} from {2, 3, 4}: the three go on and
// answer inputs; the two close nothing (an input sent to them waits); heal: the two learn that
// they are behind, fetch the ledgers and the state from the three, the waiting input is applied
// and its output reaches its user, as do the outputs of the ledgers they fetched (the user is the
// same on every member), and all five end on one ledger chain with one state.
'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const HotPocket = require('hotpocket-js-client');
const { check } = require('./lib/devnet');
const { prepareJsSample } = require('./lib/instance');
const { sleep, withTimeout, hex, waitFor, stopRuntime, makeOwner, makeMembers, startMembers, writeMembership, waitForUnl,
  runCommand } = require('./lib/cluster');

const binary = process.argv[2];
if (!binary) { console.error('usage: node cluster-partition.test.js <sashimono binary>'); process.exit(2); }
HotPocket.setLogLevel(2);

const N = 5;

// A TCP relay to 127.0.0.1:target that can be cut (open connections dropped, new ones refused).
function relay(target) {
  return new Promise((resolve) => {
    const r = { cut: false, sockets: new Set() };
    r.server = net.createServer((c) => {
      if (r.cut) { c.destroy(); return; }
      const u = net.connect(target, '127.0.0.1');
      for (const [a, b] of [[c, u], [u, c]]) {
        r.sockets.add(a);
        a.on('data', (d) => b.write(d));
        a.on('close', () => { r.sockets.delete(a); b.destroy(); });
        a.on('error', () => b.destroy());
      }
    });
    r.setCut = (on) => {
      r.cut = on;
      if (on) for (const s of r.sockets) s.destroy();
    };
    r.server.listen(0, '127.0.0.1', () => { r.port = r.server.address().port; resolve(r); });
  });
}


async function client(m, keys) {
  const c = await HotPocket.createClient([m.url], keys, { protocol: HotPocket.protocols.json, connectionTimeoutMs: 5000 });
  check(await withTimeout(c.connect(), 10000, `connect to ${m.name}`), `a client connects to ${m.name}`);
  const outputs = [];
  const ledgers = [];  // the ledger of each contractOutput event
  c.on(HotPocket.events.contractOutput, (r) => { outputs.push(...r.outputs.map(String)); ledgers.push(r.ledgerSeqNo); });
  return { c, outputs, ledgers, m };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sashimono-partition-'));
  const members = [];
  const relays = [];
  const clients = [];
  try {
    const owner = await makeOwner(tmp);
    // Three of five must agree (T = 3 at 60 %): the majority side of a 2/3 partition goes on.
    members.push(...await makeMembers(tmp, N, owner.publicKey,
      { version: '1.0', unl: [], consensus: { mode: 'public', roundtime: 500, threshold: 60 } }));
    await startMembers(binary, members);
    for (let i = 0; i < N; i++) {
      relays.push([]);
      for (let j = 0; j < N; j++) relays[i].push(i === j ? null : await relay(members[j].peerPort));
    }
    for (let i = 0; i < N; i++) {
      writeMembership(members[i], members.map((o, j) => ({
        key: o.key, peer: `127.0.0.1:${i === j ? o.peerPort : relays[i][j].port}`,
      })));
    }
    await waitForUnl(members, await HotPocket.generateKeys(hex(owner.privateKey)), N);
    const deploy = await runCommand(binary, ['deploy', '--url', members[0].url, '--key-file', path.join(tmp, 'owner.key'),
      '--dir', prepareJsSample('js-counter', path.join(tmp, 'contract')), '--timeout', '60']);
    check(deploy.status === 0, `deploy (${deploy.out})`);

    const user = await HotPocket.generateKeys();
    for (const m of members) clients.push(await client(m, user));
    const inc = async (k, what) => {
      const sub = await clients[k].c.submitContractInput('inc');
      return { status: sub.submissionStatus, what };
    };
    const accepted = async (p, ms = 30000) => {
      const { status, what } = await p;
      const st = await withTimeout(status, ms, what);
      check(st.status === 'accepted', `${what}: accepted (${JSON.stringify(st)})`);
      return st;
    };
    await accepted(inc(0, 'inc before the partition'));
    const lclOf = async (k) => (await clients[k].c.getLcl()).ledgerSeqNo;

    // Cut {0, 1} from {2, 3, 4}.
    const A = [0, 1];
    const B = [2, 3, 4];
    const cut = (on) => {
      for (const i of A) for (const j of B) { relays[i][j].setCut(on); relays[j][i].setCut(on); }
    };
    cut(true);
    if (process.env.VERBOSE) {
      for (let i = 0; i < N; i++) console.error(`member ${i} is ${members[i].key.slice(0, 12)}, peer port ${members[i].peerPort}, relays ${relays[i].map((r) => (r ? `${r.port}${r.cut ? 'x' : ''}/${r.sockets.size}` : '-')).join(' ')}`);
    }
    const before = await lclOf(0);
    // The three go on.
    for (const k of B) await accepted(inc(k, `inc via member ${k} in the majority`));
    // The two close nothing: an input sent to them waits.
    const waiting = inc(1, 'inc via member 1 in the minority');
    await sleep(3000);
    check((await lclOf(0)) === before && (await lclOf(1)) === before,
      `the minority closed no ledger during the partition (ledger ${before})`);
    const majority = await lclOf(2);
    check(majority > before, `the majority closed ledgers (${before} → ${majority})`);

    // Heal: the two catch up, the waiting input is applied, one chain and one state everywhere.
    cut(false);
    const applied = await accepted(waiting, 60000);
    // Its output reaches the user through member 1 too, whether member 1 ran that round or
    // fetched its ledger from the others (the members' root_sigs are kept with a synced ledger).
    await waitFor(() => clients[1].ledgers.includes(applied.ledgerSeqNo), 10000,
      `the output of the waiting input (ledger ${applied.ledgerSeqNo}) reaches its user`);
    // The same user sent the majority's inputs: their outputs, in ledgers member 1 fetched rather
    // than ran, reach it through member 1 as well.
    for (let s = before + 1; s <= majority; s++)
      await waitFor(() => clients[1].ledgers.includes(s), 10000, `the output of fetched ledger ${s} through member 1`);
    check(true, `the waiting input's output (ledger ${applied.ledgerSeqNo}) reached its user through member 1, ` +
      `with those of the ledgers it fetched: ${clients[1].outputs.join(', ')} (ledgers ${clients[1].ledgers.join(', ')})`);
    for (const k of A)
      await waitFor(() => /synced from ed[0-9a-f]+: [1-9]\d* ledger\(s\)/.test(members[k].log()), 30000, `member ${k} syncs`);
    check(true, `the minority fetched what the majority closed (${A.map((k) => /synced from .*/.exec(members[k].log())[0]).join('; ')})`);
    await accepted(inc(0, 'inc via member 0 after healing'));
    await waitFor(async () => {
      const lcls = await Promise.all(clients.map((c) => c.c.getLcl()));
      return lcls.every((l) => l.ledgerSeqNo === lcls[0].ledgerSeqNo && l.ledgerHash === lcls[0].ledgerHash);
    }, 20000, 'one ledger chain');
    check(true, 'all five are on the same last ledger');
    // The state too (a member that fetched the last ledgers while the others were busy may still be
    // fetching the state that goes with them: it tries again until a member serves it).
    for (const c of clients) {
      let read = '';
      await waitFor(async () => {
        read = String(await withTimeout(c.c.submitContractReadRequest('get'), 10000, 'read'));
        return read === 'counter: 6';
      }, 20000, `${c.m.name} has the one state (${read})`);
      check(true, `${c.m.name} has the one state: ${read}`);
    }
    console.log('cluster-partition: all checks passed');
  } finally {
    for (const c of clients) { try { await c.c.close(); } catch (e) { /* closing anyway */ } }
    await Promise.all(members.map(stopRuntime));
    for (const row of relays) for (const r of row) if (r) { r.setCut(true); r.server.close(); }
    if (process.env.KEEP) console.log(`kept ${tmp}`); else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
