// Interop: a member made to lie changes nothing the others accept (docs/CLUSTER.md, "A lying
// member, for tests"). Five `sashimono runtime` processes on 127.0.0.1 (lib/cluster.js, the default
// threshold: four of five must agree), the js-counter sample, hotpocket-js-client clients that
// trust the UNL.
// Usage: node cluster-liar.test.js <path-to-sashimono>
//
// Member 2 runs with the test switch SASHIMONO_TEST_LIE, restarted with each of its lies in turn:
//   state       the results it signs carry a wrong state hash;
//   outputs     they carry a wrong output root (its root_sig signs that root);
//   equivocate  whenever it leads, it signs two proposals: one goes to two members, one to the two
//               others.
// In each phase the users of the four honest members send inputs: each is accepted once and its
// outputs verify against the UNL; the liar's own user sends one too: accepted in the honest chain,
// with outputs that verify (while the liar lies about its results, they come from the ledger it
// fetched, with the signatures of the members that closed it).
// From the logs: the liar says what it lies about, and learns that its result differs (state,
// outputs); every honest member keeps evidence of the two proposals, with the very hashes the liar
// signed (equivocate). At the end every member, the liar included (it fetched what it could not
// close), holds one ledger chain that carries none of the hashes the liar made up but the true ones
// it lied about, the counter counted every input once everywhere, and every output the liar sent
// its user (seen by a second client that checks nothing) verified against the UNL and is the one
// the honest chain holds.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const HotPocket = require('hotpocket-js-client');
const { check } = require('./lib/devnet');
const { prepareJsSample } = require('./lib/instance');
const {
  withTimeout, hex, waitFor, startRuntime, stopRuntime, connect, input, makeOwner, makeMembers, startMembers, writeMembership,
  waitForUnl, runCommand } = require('./lib/cluster');

const binary = process.argv[2];
if (!binary) { console.error('usage: node cluster-liar.test.js <sashimono binary>'); process.exit(2); }
HotPocket.setLogLevel(2);

const N = 5;
const LIAR = 2;
const HONEST = [0, 1, 3, 4];

// What the runtime logs (src/runtime/ClusterConsensus.cpp, Agreement.cpp).
const LIE = /TEST LIE: round (\d+): this member reports the (state hash|output root) ([0-9a-f]{64}) instead of ([0-9a-f]{64})/g;
const TWO_SIGNED = /TEST LIE: round (\d+) view (\d+): this member signed two proposals, ([0-9a-f]{64}) to \d+ member\(s\) and ([0-9a-f]{64}) to \d+/g;
const DIFFERS = /cluster: behind the other members: this member's result of round (\d+) differs from the one the cluster agreed on/;
const evidenceOf = (key, flags = '') => new RegExp(`cluster: leader ${key} signed two proposals for round (\\d+) view (\\d+): ([0-9a-f]{64}) and ([0-9a-f]{64})`, flags);
const ANY_EVIDENCE = /cluster: (?:leader|member) (ed[0-9a-f]{64}) (?:signed two|voted for two)/g;


// A client without trusted keys: hotpocket-js-client then checks nothing, so it sees every output
// the member sends this user, whether it verifies or not.
async function blindClient(m, keys) {
  const client = await HotPocket.createClient([m.url], keys, { protocol: HotPocket.protocols.json, connectionTimeoutMs: 5000 });
  check(await withTimeout(client.connect(), 10000, `connect to ${m.name}`), `a client that checks nothing connects to ${m.name}`);
  const outputs = [];
  client.on(HotPocket.events.contractOutput, (r) => outputs.push(r));
  return { client, outputs, member: m };
}

async function main() {
  const began = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sashimono-liar-'));
  const members = [];
  const clients = [];
  try {
    const owner = await makeOwner(tmp);
    members.push(...await makeMembers(tmp, N, owner.publicKey));
    const liar = members[LIAR];
    liar.env = { SASHIMONO_TEST_LIE: 'state' };  // from the first round on, the deployment's included
    await startMembers(binary, members);
    const unl = members.map((m) => m.key).sort();
    for (const m of members) writeMembership(m, members.map((o) => ({ key: o.key, peer: `127.0.0.1:${o.peerPort}` })));
    await waitForUnl(members, await HotPocket.generateKeys(hex(owner.privateKey)), N);
    const deploy = await runCommand(binary, ['deploy', '--url', members[0].url, '--key-file', path.join(tmp, 'owner.key'),
      '--dir', prepareJsSample('js-counter', path.join(tmp, 'contract')), '--timeout', '60']);
    check(deploy.status === 0, `deploy through member 0 while member ${LIAR} lies (${deploy.out.trim()})`);

    const users = [];
    for (let i = 0; i < N; i++) users.push(await HotPocket.generateKeys());
    const honest = [];
    for (const i of HONEST) honest.push(await connect(members[i], users[i], unl));
    clients.push(...honest);
    // The liar's user: a client that trusts the UNL and one that checks nothing, on the liar.
    const liarUsers = [];
    const openLiarUser = async () => {
      const u = { trusting: await connect(liar, users[LIAR], unl), blind: await blindClient(liar, users[LIAR]) };
      clients.push(u.trusting, u.blind);
      liarUsers.push(u);
      return u;
    };
    let lu = await openLiarUser();
    let sent = 0;  // counter increments accepted
    const lies = [];
    const hexOf = (v) => String(v).toLowerCase();

    const startsLoudly = (mode) => {
      check(liar.log().includes(`SASHIMONO_TEST_LIE=${mode}: TEST ONLY: this member lies`),
        `member ${LIAR} warns that it lies (${mode})`);
    };
    const restartLiar = async (mode) => {
      for (const c of [lu.trusting, lu.blind]) await c.client.close().catch(() => {});
      await stopRuntime(liar);
      liar.env = { SASHIMONO_TEST_LIE: mode };
      await startRuntime(binary, liar);
      lu = await openLiarUser();
    };
    // One input a round via the honest members in turn, until `done()` (at most `rounds` rounds):
    // the liar may be fetching ledgers when a phase starts, or not lead the first rounds.
    let turn = 0;
    const roundsUntil = async (done, rounds, what) => {
      for (let k = 0; k < rounds && !done(); k++) {
        const c = honest[turn++ % honest.length];
        const r = await input(c, 'inc', `${what}: inc ${k} via ${c.member.name}`, 30000);
        sent += 1;
        check(r.outputs.some((o) => /^counter: \d+$/.test(o)), `${what}: a verified counter output ${JSON.stringify(r.outputs)}`);
        await waitFor(done, 500, what).catch(() => {});
      }
      check(done(), `${what} (within ${rounds} rounds)`);
    };
    // The liar's user sends an input once the liar has caught up (so that it runs the round itself,
    // lies, is outvoted and fetches the ledger): accepted, in a ledger of the honest chain, and its
    // output verifies against the UNL (the liar sends it from the fetched ledger).
    const incViaLiar = async (what) => {
      await waitFor(async () => {
        const [mine, theirs, st] = await Promise.all([lu.trusting.client.getLcl(), honest[0].client.getLcl(),
          lu.trusting.client.getStatus()]);
        return mine && theirs && st && mine.ledgerHash === theirs.ledgerHash && st.voteStatus === 'synced';
      }, 20000, `${what}: the liar catches up first`);
      const r = await input(lu.trusting, 'inc', what, 30000);
      sent += 1;
      check(r.outputs.includes(`counter: ${sent}`), `${what}: a verified output (${JSON.stringify(r.outputs)})`);
      const l = await honest[0].client.getLedgerBySeqNo(r.seq, false, false);
      const mine = lu.trusting.outputs.find((o) => o.ledgerSeqNo === r.seq);
      check(l && mine && hexOf(l.hash) === hexOf(mine.ledgerHash), `${what}: in honest ledger ${r.seq}`);
      return r;
    };

    // Phases 1 and 2: the liar's results carry a made-up state hash, then a made-up output root.
    for (const mode of ['state', 'outputs']) {
      if (mode !== 'state') await restartLiar(mode);
      startsLoudly(mode);
      const t0 = Date.now();
      const rs = await Promise.all(honest.map((c) => input(c, 'inc', `${mode}: inc via ${c.member.name}`, 30000)));
      sent += rs.length;
      for (const r of rs) check(r.outputs.some((o) => /^counter: \d+$/.test(o)), `${mode}: a verified counter output ${JSON.stringify(r.outputs)}`);
      await incViaLiar(`${mode}: inc via the liar`);
      await roundsUntil(() => DIFFERS.test(liar.log()), 8, `${mode}: member ${LIAR} learns that its result differs`);
      const found = [...liar.log().matchAll(LIE)].map((x) => ({ seq: Number(x[1]), what: x[2], fake: x[3], truth: x[4] }));
      const what = mode === 'state' ? 'state hash' : 'output root';
      check(found.length > 0 && found.every((x) => x.what === what),
        `${mode}: the liar reported a made-up ${what} in ${found.length} round(s): ${found.map((x) => x.seq).join(', ')}`);
      lies.push(...found);
      console.log(`  ${mode} phase: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    // Phase 3: the liar signs two proposals whenever it leads. One input a round, via the honest
    // members in turn, until every honest member kept evidence (the liar leads one round in five).
    await restartLiar('equivocate');
    startsLoudly('equivocate');
    const t3 = Date.now();
    const evidence = evidenceOf(liar.key);
    await roundsUntil(() => HONEST.every((i) => evidence.test(members[i].log())), 16,
      'equivocate: every honest member keeps evidence of two proposals');
    const signedTwo = [...liar.log().matchAll(TWO_SIGNED)].map((x) => ({ seq: x[1], view: x[2], a: x[3], b: x[4] }));
    check(signedTwo.length > 0, `the liar signed two proposals in round(s) ${signedTwo.map((x) => `${x.seq}/${x.view}`).join(', ')}`);
    for (const i of HONEST) {
      const seen = [...members[i].log().matchAll(evidenceOf(liar.key, 'g'))];
      check(seen.length > 0, `${members[i].name} kept evidence of the liar's two proposals (${seen.length ? seen[0][0] : 'none'})`);
      for (const e of seen) {
        const pair = signedTwo.find((x) => x.seq === e[1] && x.view === e[2]);
        check(pair && new Set([pair.a, pair.b, e[3], e[4]]).size === 2,
          `${members[i].name}: the evidence of round ${e[1]} view ${e[2]} names the two proposals the liar signed`);
      }
    }
    // Its results are true in this phase: its user's input gets outputs that verify.
    const viaLiar = await input(lu.trusting, 'inc', 'equivocate: inc via the liar', 30000);
    sent += 1;
    check(viaLiar.outputs.includes(`counter: ${sent}`), `the liar's user gets a verified output (${JSON.stringify(viaLiar.outputs)})`);
    console.log(`  equivocate phase: ${((Date.now() - t3) / 1000).toFixed(1)} s`);

    // One chain: the four honest members, and the liar on it.
    const everyone = [...honest, lu.trusting];
    await waitFor(async () => {
      const lcls = await Promise.all(everyone.map((c) => c.client.getLcl()));
      return lcls.every((l) => l && l.ledgerSeqNo === lcls[0].ledgerSeqNo && l.ledgerHash === lcls[0].ledgerHash);
    }, 20000, 'the same last ledger on every member');
    const lcl = await honest[0].client.getLcl();
    const fakes = new Set(lies.map((x) => x.fake));
    const chain = [];
    for (let seq = 1; seq <= lcl.ledgerSeqNo; seq++) {
      const ls = await Promise.all(everyone.map((c) => c.client.getLedgerBySeqNo(seq, false, true)));
      check(ls.every((l) => l && hexOf(l.hash) === hexOf(ls[0].hash)), `ledger ${seq} is the same on every member (the liar's fetched)`);
      if (seq > 1) check(hexOf(ls[0].prevHash) === hexOf(chain[seq - 2].hash), `ledger ${seq} follows ledger ${seq - 1}`);
      check(ls.every((l) => !fakes.has(hexOf(l.stateHash)) && !fakes.has(hexOf(l.outputHash))),
        `ledger ${seq} carries no hash the liar made up`);
      chain.push(ls[0]);
    }
    // What the liar lied about was the truth the others closed.
    for (const x of lies) {
      const l = chain[x.seq - 1];
      const field = x.what === 'state hash' ? l.stateHash : l.outputHash;
      check(hexOf(field) === x.truth, `round ${x.seq}: the honest ledger has the ${x.what} the liar computed, not the one it reported`);
    }
    // Every input once, everywhere.
    for (const c of everyone) {
      const read = await withTimeout(c.client.submitContractReadRequest('get'), 10000, 'read');
      check(String(read) === `counter: ${sent}`, `${c.member.name} reads counter: ${sent} (${read})`);
    }
    // Everything the liar sent its user verified against the UNL and is in the honest chain.
    let fromLiar = 0;
    for (const u of liarUsers) {
      for (const o of u.blind.outputs) {
        fromLiar += 1;
        const l = chain[o.ledgerSeqNo - 1];
        check(l && hexOf(l.hash) === hexOf(o.ledgerHash), `an output from the liar names honest ledger ${o.ledgerSeqNo}`);
        check(l.outputs.some((x) => hexOf(x.pubkey) === hex(users[LIAR].publicKey) && hexOf(x.hash) === hexOf(o.outputHash)),
          `an output from the liar is the one honest ledger ${o.ledgerSeqNo} holds for its user`);
        check(u.trusting.outputs.some((t) => t.ledgerSeqNo === o.ledgerSeqNo && hexOf(t.outputHash) === hexOf(o.outputHash)),
          `the output of ledger ${o.ledgerSeqNo} the liar sent verified against the UNL`);
      }
    }
    // Also while it lied about its results (it sent them from the ledgers it fetched).
    check(liarUsers[0].blind.outputs.length > 0 && liarUsers[1].blind.outputs.length > 0,
      'the liar sent its user outputs while it lied about its results');
    check(fromLiar > 0, `the liar sent its user ${fromLiar} output(s) in all, each verified against the UNL`);
    // The honest members never lied, never differed, and blamed nobody but the liar.
    for (const i of HONEST) {
      const log = members[i].log();
      check(!log.includes('TEST LIE') && !log.includes('SASHIMONO_TEST_LIE'), `${members[i].name} did not lie`);
      check(!DIFFERS.test(log), `${members[i].name} never had a result other than the cluster's`);
      const blamed = new Set([...log.matchAll(ANY_EVIDENCE)].map((x) => x[1]));
      check(blamed.size === 1 && blamed.has(liar.key), `${members[i].name} blamed only the liar (${[...blamed].join(', ')})`);
    }

    for (const c of clients) await c.client.close().catch(() => {});
    clients.length = 0;
    console.log(`cluster-liar: all checks passed (${sent} inputs, ${lcl.ledgerSeqNo} ledgers, ${lies.length} made-up results, ` +
      `${signedTwo.length} double proposals, ${((Date.now() - began) / 1000).toFixed(1)} s)`);
  } finally {
    for (const c of clients) { try { await c.client.close(); } catch (e) { /* closing anyway */ } }
    await Promise.all(members.map(stopRuntime));
    if (process.env.KEEP) console.log(`kept ${tmp}`); else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
