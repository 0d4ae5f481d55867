// A scripted session of the unmodified hotpocket-js-client against the members of a cluster, for
// tests written in C++ (the root test of simulated hosts runs it as a child process, sometimes
// inside a host's network namespace).
// Usage: node cluster-session.js SPEC_JSON
//   SPEC: {"unl": ["<64 hex>" …], "owner": "<user private key hex>", "ops": [OP …]}
//   OP:   {"url": U, "input": TEXT [, "as": "owner"] [, "expect": "none", "ms": N]}
//           submit, wait for `accepted` and the verified outputs of its ledger; with "expect":
//           "none", check instead that it is NOT accepted within N ms (a stalled member)
//         {"url": U, "read": TEXT}   a read request
//         {"url": U, "lcl": true}    the last closed ledger {seqNo, hash}
//         {"url": U, "ledger": N}    ledger N {seqNo, hash, prevHash}
//         {"parallel": [OP …]}       the ops at once (one line each, in the given order)
//   Any op may carry "trust": ["<64 hex>" …] (the keys the client trusts instead of the UNL) or
//   "none" (no output verification).
// Clients trust the whole UNL (trustedServerKeys) unless told otherwise, so an output arriving at
// all means it carried the signatures of 80 % of the trusted keys (the client's fixed rule). Each member URL has one client per identity: the owner's key when
// "as" is "owner", else a fresh user key per URL (so concurrent inputs never share a user's nonces).
// Prints one JSON line per op; exits 1 at the first op that fails (the reason on stderr).
'use strict';
const path = require('path');
const HotPocket = require(path.join(__dirname, '..', 'node_modules', 'hotpocket-js-client'));

const spec = JSON.parse(process.argv[2] || '{}');
if (!Array.isArray(spec.unl) || !Array.isArray(spec.ops)) {
  console.error('usage: node cluster-session.js \'{"unl": [...], "owner": HEX, "ops": [...]}\'');
  process.exit(2);
}
HotPocket.setLogLevel(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`timeout: ${what}`); })]);
const unl = spec.unl.map((k) => k.toLowerCase());
const hex = (v) => (typeof v === 'string' ? v : Buffer.from(v).toString('hex')).toLowerCase();

const clients = new Map();
async function clientFor(url, as, trust) {
  const id = `${as === 'owner' ? 'owner' : 'user'} ${url} ${JSON.stringify(trust || null)}`;
  if (!clients.has(id)) {
    clients.set(id, (async () => {
      const keys = as === 'owner' ? await HotPocket.generateKeys(spec.owner.toLowerCase()) : await HotPocket.generateKeys();
      const trusted = trust === 'none' ? null : Array.isArray(trust) ? trust.map((k) => k.toLowerCase()) : unl;
      const client = await HotPocket.createClient([url], keys, {
        protocol: HotPocket.protocols.json, trustedServerKeys: trusted, connectionTimeoutMs: 10000,
      });
      const outputs = [];
      client.on(HotPocket.events.contractOutput, (r) => outputs.push(r));
      if (!await withTimeout(client.connect(), 20000, `connect ${url}`)) throw new Error(`connect ${url} failed`);
      return { client, outputs };
    })());
  }
  return clients.get(id);
}

async function run(op) {
  if (op.parallel) return (await Promise.all(op.parallel.map(run))).flat();
  const c = await clientFor(op.url, op.as, op.trust);
  if (op.input !== undefined) {
    const sub = await c.client.submitContractInput(op.input);
    if (op.expect === 'none') {
      const st = await Promise.race([sub.submissionStatus, sleep(op.ms || 3000).then(() => null)]);
      if (st && st.status === 'accepted') throw new Error(`${op.url}: '${op.input}' was accepted (ledger ${st.ledgerSeqNo})`);
      return [{ op: 'input', url: op.url, accepted: false }];
    }
    const st = await withTimeout(sub.submissionStatus, 60000, `${op.url} input ${op.input}`);
    if (st.status !== 'accepted') throw new Error(`${op.url} input ${op.input}: ${JSON.stringify(st)}`);
    const until = Date.now() + 30000;
    let outs = [];
    while (Date.now() < until) {
      outs = c.outputs.filter((o) => o.ledgerSeqNo === st.ledgerSeqNo).flatMap((o) => o.outputs.map(String));
      if (outs.length > 0) break;
      await sleep(10);
    }
    if (outs.length === 0) throw new Error(`${op.url} input ${op.input}: no verified output in ledger ${st.ledgerSeqNo}`);
    return [{ op: 'input', url: op.url, ledger: st.ledgerSeqNo, outputs: outs }];
  }
  if (op.read !== undefined) {
    const r = await withTimeout(c.client.submitContractReadRequest(op.read), 20000, `${op.url} read`);
    if (r === null || r === undefined) throw new Error(`${op.url} read: no answer`);
    return [{ op: 'read', url: op.url, content: String(r) }];
  }
  if (op.lcl) {
    const l = await withTimeout(c.client.getLcl(), 20000, `${op.url} lcl`);
    if (!l) throw new Error(`${op.url} lcl: no answer`);
    return [{ op: 'lcl', url: op.url, seqNo: l.ledgerSeqNo, hash: hex(l.ledgerHash) }];
  }
  if (op.ledger !== undefined) {
    const l = await withTimeout(c.client.getLedgerBySeqNo(Number(op.ledger), false, false), 20000, `${op.url} ledger`);
    if (!l) throw new Error(`${op.url}: no ledger ${op.ledger}`);
    return [{ op: 'ledger', url: op.url, seqNo: l.seqNo, hash: hex(l.hash), prevHash: hex(l.prevHash) }];
  }
  throw new Error(`unknown op ${JSON.stringify(op)}`);
}

(async () => {
  for (const op of spec.ops)
    for (const line of await run(op)) console.log(JSON.stringify(line));
  for (const c of clients.values()) await (await c).client.close();
  process.exit(0);
})().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
