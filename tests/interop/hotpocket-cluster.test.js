// Interop: a cluster of five instance runtimes (`sashimono runtime`, each with its own peer port on
// 127.0.0.1) agreeing round by round, driven by Hot Pocket's own npm packages, unmodified.
// Usage: node hotpocket-cluster.test.js <path-to-sashimono>
//
// The instances start alone; then each is handed the membership (cluster.json, as the host node
// writes it) and, no ledger having closed yet, takes it as its UNL. The owner deploys
// contracts-samples/js-counter (hotpocket-nodejs-contract 0.7.4) once, through one member; then
// hotpocket-js-client 0.5.7 clients with `trustedServerKeys` = the UNL send inputs to different
// members: every input is accepted once, its outputs arrive verified (the client drops an output
// whose proof lacks 80 % of the trusted keys' signatures), the counter counts every input once,
// and all members end on the same ledger. An NPL command makes the five contracts talk over the
// node party line. A member whose state is tampered with is outvoted and repairs it from the
// others. A member killed while the others go on (4 of 5 agree) comes back on its files,
// fetches the ledgers and the state it missed from the others, verified, and takes part again.
// The owner then takes a member out of the UNL; the four others go on, and the clients follow.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const HotPocket = require('hotpocket-js-client');
const { check } = require('./lib/devnet');
const { prepareJsSample } = require('./lib/instance');
const {
  withTimeout, hex, waitFor, startRuntime, stopRuntime, connect, input, makeOwner, makeMembers, startMembers, writeMembership,
  waitForUnl,
} = require('./lib/cluster');

const binary = process.argv[2];
if (!binary) { console.error('usage: node hotpocket-cluster.test.js <sashimono binary>'); process.exit(2); }
HotPocket.setLogLevel(2);

const N = 5;

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sashimono-cluster-'));
  const members = [];
  const clients = [];
  try {
    const owner = await makeOwner(tmp);
    members.push(...await makeMembers(tmp, N, owner.publicKey));
    await startMembers(binary, members);
    const unl = members.map((m) => m.key).sort();
    // The membership, as the host node hands it over.
    for (const m of members) writeMembership(m, members.map((o) => ({ key: o.key, peer: `127.0.0.1:${o.peerPort}` })));
    await waitForUnl(members, await HotPocket.generateKeys(hex(owner.privateKey)), N);
    check(true, `every member took the ${N}-member membership as its UNL`);

    // Deploy once, through member 0: the upload is relayed and installed by every member.
    const contractDir = prepareJsSample('js-counter', path.join(tmp, 'contract'));
    const deploy = spawnSync(binary, ['deploy', '--url', members[0].url, '--key-file', path.join(tmp, 'owner.key'),
      '--dir', contractDir, '--timeout', '60'], { encoding: 'utf8' });
    check(deploy.status === 0, `deploy through member 0 (${deploy.stdout}${deploy.stderr})`);

    // Users on different members; every client trusts the whole UNL.
    const users = [];
    for (let i = 0; i < N; i++) users.push(await HotPocket.generateKeys());
    for (let i = 0; i < N; i++) clients.push(await connect(members[i], users[i], unl));
    let sent = 0;
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(clients.map((c, i) => input(c, 'inc', `round ${round} inc via member ${i}`)));
      sent += results.length;
      for (const r of results) check(r.outputs.some((o) => /^counter: \d+$/.test(o)), `a counter output ${JSON.stringify(r.outputs)}`);
    }
    // Every input counted once: the counter is the number of inputs, on every member.
    for (const c of clients) {
      const read = await withTimeout(c.client.submitContractReadRequest('get'), 10000, 'read');
      check(String(read) === `counter: ${sent}`, `${c.member.name} reads counter: ${sent} (${read})`);
    }
    // NPL: the contracts hear each other in the same round.
    const n = await input(clients[1], 'npl hello', 'npl');
    check(n.outputs.includes(`npl: hello from ${N} of ${N} members`), `the contracts heard each other over NPL (${JSON.stringify(n.outputs)})`);
    const sameLedger = (cs) => waitFor(async () => {
      const lcls = await Promise.all(cs.map((c) => c.client.getLcl()));
      return lcls.every((l) => l.ledgerSeqNo === lcls[0].ledgerSeqNo && l.ledgerHash === lcls[0].ledgerHash);
    }, 20000, 'the same last ledger on every member');
    await sameLedger(clients);
    check(true, 'every member is on the same ledger');

    // A member whose state was tampered with (its counter file rewritten behind the runtime's
    // back) computes another state hash in the next round: the four others outvote it, it rolls
    // the round back, fetches the agreed state from them, and agrees again.
    const liar = members[3];
    fs.writeFileSync(path.join(liar.fs, 'state', 'counter'), '1000\n');
    const outvoted = await input(clients[0], 'inc', 'inc with member 3 tampered with', 40000);
    sent += 1;
    check(outvoted.outputs.includes(`counter: ${sent}`), `the four honest members close the round (${JSON.stringify(outvoted.outputs)})`);
    await waitFor(() => /synced from ed[0-9a-f]+: .*state: [1-9]/.test(liar.log()), 20000, 'member 3 repairs its state');
    check(true, `member 3 fetched the agreed state (${/synced from .*/.exec(liar.log())[0]})`);
    const readLiar = await withTimeout(clients[3].client.submitContractReadRequest('get'), 10000, 'read');
    check(String(readLiar) === `counter: ${sent}`, `member 3 has the agreed state again: counter: ${sent} (${readLiar})`);
    const honest = await input(clients[3], 'inc', 'inc via member 3 after its repair', 40000);
    sent += 1;
    check(honest.outputs.includes(`counter: ${sent}`), `member 3 takes part again (${JSON.stringify(honest.outputs)})`);

    // Member 4 is killed; the four others still close ledgers (4 of 5 agree), and clients that
    // trust all five accept their outputs (80 % signed).
    const late = members[N - 1];
    await clients[N - 1].client.close().catch(() => {});
    clients.pop();
    late.proc.kill('SIGKILL');
    await new Promise((r) => (late.proc.exitCode !== null || late.proc.signalCode !== null ? r() : late.proc.once('exit', r)));
    late.proc = null;
    for (let k = 0; k < 3; k++) {
      const r = await input(clients[k], 'inc', `inc via member ${k} while member ${N - 1} is down`, 40000);
      sent += 1;
      check(r.outputs.includes(`counter: ${sent}`), `four members go on (${JSON.stringify(r.outputs)})`);
    }
    // It comes back on its files: it learns it is behind, fetches the ledgers and the state it
    // missed, verified against the others' signatures and state hash, and takes part again.
    await startRuntime(binary, late);
    clients.push(await connect(late, users[N - 1], unl));
    await waitFor(() => /synced from ed[0-9a-f]+: [1-9]\d* ledger\(s\)/.test(late.log()), 40000, 'member 4 syncs');
    check(true, `the restarted member fetched what it missed (${/synced from .*/.exec(late.log())[0]})`);
    await sameLedger(clients);
    const readLate = await withTimeout(clients[N - 1].client.submitContractReadRequest('get'), 10000, 'read');
    check(String(readLate) === `counter: ${sent}`, `the restarted member has the state: counter: ${sent} (${readLate})`);
    const back = await input(clients[N - 1], 'inc', 'inc via the restarted member', 40000);
    sent += 1;
    check(back.outputs.includes(`counter: ${sent}`), `the restarted member takes part again (${JSON.stringify(back.outputs)})`);

    // The owner takes member 4 out of the UNL (an input, agreed like any other): from the next
    // round the four others close ledgers alone (all four must agree), and clients that trust the
    // UNL follow the change (unl_change), so they accept outputs signed by the four.
    const unl2 = unl.filter((k) => k !== late.key);
    const change = spawnSync(binary, ['instance', 'input', '--url', members[0].url, '--key-file',
      path.join(tmp, 'owner.key'), '--protocol', 'json', `sashimono.unl/1\n${JSON.stringify({ unl: unl2 })}`],
    { encoding: 'utf8' });
    check(change.status === 0 && change.stdout.includes(`sashimono: unl changed to ${N - 1} members`),
      `the owner changes the UNL (${change.stdout}${change.stderr})`);
    await stopRuntime(late);
    const after = await input(clients[1], 'inc', 'inc after the UNL change', 40000);
    sent += 1;
    check(after.outputs.includes(`counter: ${sent}`), `the four go on alone (${JSON.stringify(after.outputs)})`);
    const st = await clients[0].client.getStatus();
    check(st.currentUnl.length === N - 1, `the UNL has ${N - 1} members (${JSON.stringify(st.currentUnl)})`);

    for (const c of clients) { try { await c.client.close(); } catch (e) { /* member 4 is gone */ } }
    clients.length = 0;
    console.log('hotpocket-cluster: all checks passed');
  } finally {
    for (const c of clients) { try { await c.client.close(); } catch (e) { /* closing anyway */ } }
    await Promise.all(members.map(stopRuntime));
    if (process.env.KEEP) console.log(`kept ${tmp}`); else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
