// A scripted session of the unmodified hotpocket-js-client against one instance, for tests
// written in C++ (root end-to-end tests run it as a child process).
// Usage: node hp-session.js URL SERVER_KEY USER_PRIVATE_KEY_HEX json|bson OP...
//   OP: input:TEXT   submit, wait for `accepted` and this ledger's (verified) outputs
//       read:TEXT    a read request
//       stat | lcl   status, last closed ledger
//       ledger:N     ledger N (with inputs and outputs)
// Prints one JSON line per op; exits 1 at the first op that fails (with the reason on stderr).
// trustedServerKeys = [SERVER_KEY]: outputs whose proof does not verify are dropped by the client,
// so an input's outputs arriving at all means they verified.
'use strict';
const path = require('path');
const HotPocket = require(path.join(__dirname, '..', 'node_modules', 'hotpocket-js-client'));

const [url, serverKey, keyHex, protocol, ...ops] = process.argv.slice(2);
if (!url || !serverKey || !keyHex || !protocol) {
  console.error('usage: node hp-session.js URL SERVER_KEY USER_PRIVATE_KEY_HEX json|bson OP...');
  process.exit(2);
}
HotPocket.setLogLevel(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`timeout: ${what}`); })]);

async function main() {
  const keys = await HotPocket.generateKeys(keyHex.toLowerCase());
  const client = await HotPocket.createClient([url], keys, {
    protocol, trustedServerKeys: [serverKey.toLowerCase()], connectionTimeoutMs: 10000,
  });
  const outputs = [];
  client.on(HotPocket.events.contractOutput, (r) => outputs.push(r));
  if (!await withTimeout(client.connect(), 15000, 'connect')) throw new Error('connect failed');
  for (const op of ops) {
    const i = op.indexOf(':');
    const verb = i < 0 ? op : op.slice(0, i);
    const arg = i < 0 ? '' : op.slice(i + 1);
    if (verb === 'input') {
      const sub = await client.submitContractInput(arg);
      const st = await withTimeout(sub.submissionStatus, 30000, op);
      if (st.status !== 'accepted') throw new Error(`${op}: ${JSON.stringify(st)}`);
      const until = Date.now() + 15000;
      let outs = [];
      while (Date.now() < until) {
        outs = outputs.filter((o) => o.ledgerSeqNo === st.ledgerSeqNo).flatMap((o) => o.outputs.map(String));
        if (outs.length > 0) break;
        await sleep(10);
      }
      if (outs.length === 0) throw new Error(`${op}: no verified output in ledger ${st.ledgerSeqNo}`);
      console.log(JSON.stringify({ op: verb, ledger: st.ledgerSeqNo, outputs: outs }));
    } else if (verb === 'read') {
      const r = await withTimeout(client.submitContractReadRequest(arg), 20000, op);
      if (r === null || r === undefined) throw new Error(`${op}: no answer`);
      console.log(JSON.stringify({ op: verb, content: String(r) }));
    } else if (verb === 'stat') {
      console.log(JSON.stringify({ op: verb, stat: await client.getStatus() }));
    } else if (verb === 'lcl') {
      console.log(JSON.stringify({ op: verb, lcl: await client.getLcl() }));
    } else if (verb === 'ledger') {
      const l = await client.getLedgerBySeqNo(Number(arg), true, true);
      if (!l) throw new Error(`${op}: no such ledger`);
      console.log(JSON.stringify({ op: verb, seqNo: l.seqNo, hash: l.hash, prevHash: l.prevHash }));
    } else {
      throw new Error(`unknown op ${op}`);
    }
  }
  await client.close();
}

main().then(() => process.exit(0), (e) => { console.error(String(e && e.stack || e)); process.exit(1); });
