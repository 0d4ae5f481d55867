// Interop: a contract's peer_changeset (fact sheet 3.6) through hotpocket-nodejs-contract's
// ctx.updatePeers, on a cluster of three `sashimono runtime` processes on 127.0.0.1.
// Usage: node cluster-peers.test.js <path-to-sashimono>
//
// The three start from a membership with endpoints and a contract whose input "peers a,b,c" calls
// ctx.updatePeers([a, b, c], []) — every member's own endpoint included, as Hot Pocket contracts
// send it. Then the membership loses its endpoints (the hosts' files name no members), and one
// member is restarted: it knows its peers only from the contract's changeset, which it kept, and
// the UNL (all three must agree at 80 %) closes ledgers again only if it reconnected through
// those endpoints. A changeset that is not valid is refused and logged, and changes nothing.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const HotPocket = require('hotpocket-js-client');
const { check } = require('./lib/devnet');
const { prepareJsSample } = require('./lib/instance');
const { withTimeout, hex, waitFor, startRuntime, stopRuntime, connect, input, makeOwner, makeMembers, startMembers,
  writeMembership, waitForUnl, runCommand } = require('./lib/cluster');

const binary = process.argv[2];
if (!binary) { console.error('usage: node cluster-peers.test.js <sashimono binary>'); process.exit(2); }
HotPocket.setLogLevel(2);

const N = 3;

const CONTRACT = `'use strict';
const HotPocket = require('hotpocket-nodejs-contract');
async function contract(ctx) {
  for (const user of ctx.users.list()) {
    for (const input of user.inputs) {
      const text = (await ctx.users.read(input)).toString('utf8');
      if (!ctx.readonly && text.startsWith('peers ')) {
        const list = text.slice(6).split(',');
        await ctx.updatePeers(list, []);
        await user.send('peers: ' + list.length);
      } else {
        await user.send('seen: ' + text);
      }
    }
  }
}
new HotPocket.Contract().init(contract, HotPocket.clientProtocols.json);
`;


async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sashimono-peers-'));
  const members = [];
  const clients = [];
  try {
    const owner = await makeOwner(tmp);
    members.push(...await makeMembers(tmp, N, owner.publicKey));
    await startMembers(binary, members);
    for (const m of members) writeMembership(m, members.map((o) => ({ key: o.key, peer: `127.0.0.1:${o.peerPort}` })));
    await waitForUnl(members, await HotPocket.generateKeys(hex(owner.privateKey)), N);
    const dir = prepareJsSample('js-counter', path.join(tmp, 'contract'));
    fs.writeFileSync(path.join(dir, 'index.js'), CONTRACT);
    const deploy = await runCommand(binary, ['deploy', '--url', members[0].url, '--key-file', path.join(tmp, 'owner.key'),
      '--dir', dir, '--timeout', '60']);
    check(deploy.status === 0, `deploy (${deploy.out})`);

    const unl = members.map((m) => m.key);
    const user = await HotPocket.generateKeys();
    for (const m of members) clients.push(await connect(m, user, unl));
    const endpoints = members.map((m) => `127.0.0.1:${m.peerPort}`).join(',');
    const r = await input(clients[0], `peers ${endpoints}`, 'the changeset');
    check(r.outputs[0] === `peers: ${N}`, `the contract sent its changeset (${r.outputs})`);
    await waitFor(() => members.every((m) => /the contract's peers are now 3 endpoint\(s\)/.test(m.log())), 10000,
      'every member took the changeset');
    check(members.every((m) => fs.existsSync(path.join(m.data, 'contract-peers.json'))), 'every member kept it');

    // A changeset that does not parse changes nothing (logged).
    const bad = await input(clients[1], 'peers no-port', 'a bad changeset');
    check(bad.outputs[0] === 'peers: 1', 'the contract sent a bad changeset');
    await waitFor(() => members.every((m) => /contract control message refused: .*no-port/.test(m.log())), 10000,
      'every member refused it');

    // The hosts' membership names nobody now; member 2 restarts and finds the others only through
    // the contract's endpoints.
    for (const m of members) writeMembership(m, []);
    await clients[2].client.close();
    await stopRuntime(members[2]);
    await startRuntime(binary, members[2]);
    clients[2] = await connect(members[2], user, unl);
    for (const k of [2, 0, 1]) {
      const out = await input(clients[k], `hello via ${k}`, `an input via member ${k} after the restart`, 30000);
      check(out.outputs[0] === `seen: hello via ${k}`, `member ${k}: verified output with all three signing (${out.outputs})`);
    }
    check(/admitted/.test(members[2].log()), 'the restarted member admitted its peers');
    console.log('cluster-peers: all checks passed');
  } finally {
    for (const c of clients) { try { await c.client.close(); } catch (e) { /* closing anyway */ } }
    await Promise.all(members.map(stopRuntime));
    if (process.env.KEEP) console.log(`kept ${tmp}`); else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
