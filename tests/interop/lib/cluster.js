// Helpers for interop tests of clusters: members as `sashimono runtime` processes on 127.0.0.1,
// each with its own files, handed a membership file as the host node writes it, and clients of
// hotpocket-js-client that trust the UNL.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const HotPocket = require('hotpocket-js-client');
const { check } = require('./devnet');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`timeout: ${what}`); })]);
const hex = (u8) => Buffer.from(u8).toString('hex');

async function waitFor(cond, ms, what) {
  const until = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`timeout waiting for ${what}`);
    await sleep(50);
  }
}

// Starts `sashimono runtime` on the member's files; resolves once it printed its ports. `m.env`:
// variables added to this process's environment (SASHIMONO_TEST_LIE is passed only from there).
function startRuntime(binary, m) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.SASHIMONO_TEST_LIE;
    Object.assign(env, m.env || {});
    const proc = spawn(binary, ['runtime', '--no-supervisor', '--config', m.config, '--data', m.data,
      '--contract-fs', m.fs], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let log = '';
    let started = false;
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`runtime did not start:\n${log}`)); }, 20000);
    const onData = (d) => {
      log += d;
      if (process.env.VERBOSE) process.stderr.write(`[${m.name}] ${d}`);
      const p = /user port wss (\d+) open, peer port (\d+)/.exec(log);
      if (p && !started) {
        started = true;
        clearTimeout(timer);
        m.proc = proc;
        m.userPort = Number(p[1]);
        m.peerPort = Number(p[2]);
        m.url = `wss://127.0.0.1:${m.userPort}`;
        resolve(m);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    m.log = () => log;
    proc.on('exit', (code) => { clearTimeout(timer); if (!started) reject(new Error(`runtime exited with ${code}:\n${log}`)); });
  });
}

function stopRuntime(m) {
  if (!m.proc || m.proc.exitCode !== null || m.proc.signalCode !== null) { m.proc = null; return Promise.resolve(); }
  const p = m.proc;
  m.proc = null;
  return new Promise((r) => { p.once('exit', () => r()); p.kill('SIGTERM'); });
}

async function connect(m, keys, unl) {
  const client = await HotPocket.createClient([m.url], keys, {
    protocol: HotPocket.protocols.json, trustedServerKeys: unl, connectionTimeoutMs: 5000,
  });
  const outputs = [];
  client.on(HotPocket.events.contractOutput, (r) => outputs.push(r));
  check(await withTimeout(client.connect(), 10000, `connect to ${m.name}`), `a client with the UNL as trusted keys connects to ${m.name}`);
  return { client, outputs, member: m };
}

function outputsOf(c, seq) {
  return c.outputs.filter((o) => o.ledgerSeqNo === seq).flatMap((o) => o.outputs.map(String));
}

// Submits and waits for the verified output of its ledger.
async function input(c, text, what, timeoutMs = 20000) {
  const sub = await c.client.submitContractInput(text);
  const st = await withTimeout(sub.submissionStatus, timeoutMs, what);
  check(st.status === 'accepted', `${what}: accepted by ${c.member.name} (${JSON.stringify(st)})`);
  await waitFor(() => outputsOf(c, st.ledgerSeqNo).length > 0, timeoutMs, `${what}: verified output`);
  return { seq: st.ledgerSeqNo, outputs: outputsOf(c, st.ledgerSeqNo) };
}


// The dApp owner's keys, with its private key in tmp/owner.key (0600), the file
// `sashimono deploy --key-file` reads.
async function makeOwner(tmp) {
  const owner = await HotPocket.generateKeys();
  fs.writeFileSync(path.join(tmp, 'owner.key'), hex(owner.privateKey) + '\n', { mode: 0o600 });
  return owner;
}

// Makes n members' files under tmp: instance key, instance.json (user and peer ports on
// 127.0.0.1, picked at the first start and kept after), and patch.cfg when `patch` is given (the
// same on every member: it is part of the state).
async function makeMembers(tmp, n, ownerPublicKey, patch = null) {
  const members = [];
  for (let i = 0; i < n; i++) {
    const keys = await HotPocket.generateKeys();
    const dir = path.join(tmp, `m${i}`);
    fs.mkdirSync(path.join(dir, 'fs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'instance.key'), hex(keys.privateKey) + '\n', { mode: 0o600 });
    const config = {
      contract_id: 'cluster-interop', owner: hex(ownerPublicKey), key_file: 'instance.key',
      user: { listen: '127.0.0.1', port: 0, tls: 'self-signed' },
      contract: { roundtime_ms: 500, log_level: 'info' },
      peer: { listen: '127.0.0.1', port: 0 }, cluster_file: 'cluster.json',
    };
    fs.writeFileSync(path.join(dir, 'instance.json'), JSON.stringify(config));
    if (patch) fs.writeFileSync(path.join(dir, 'fs', 'patch.cfg'), JSON.stringify(patch));
    members.push({ name: `member ${i}`, key: hex(keys.publicKey), dir, config: path.join(dir, 'instance.json'),
      data: path.join(dir, 'data'), fs: path.join(dir, 'fs'), proc: null });
  }
  return members;
}

// Starts every member, then fixes the ports each was given in its instance.json (a restart comes
// back on them).
async function startMembers(binary, members) {
  await Promise.all(members.map((m) => startRuntime(binary, m)));
  for (const m of members) {
    const c = JSON.parse(fs.readFileSync(m.config, 'utf8'));
    c.user.port = m.userPort;
    c.peer.port = m.peerPort;
    fs.writeFileSync(m.config, JSON.stringify(c));
  }
}

// Hands member m its membership: [{key, peer}] (written whole, then renamed into place).
function writeMembership(m, entries) {
  const text = JSON.stringify({ lease: 'ab'.repeat(32), members: entries.map((e) => ({ key: e.key.toUpperCase(), peer: e.peer })) });
  fs.writeFileSync(path.join(m.dir, 'cluster.json.tmp'), text);
  fs.renameSync(path.join(m.dir, 'cluster.json.tmp'), path.join(m.dir, 'cluster.json'));
}

// Waits until every member reports a UNL of n keys.
async function waitForUnl(members, keys, n) {
  for (const m of members) {
    await waitFor(async () => {
      const c = await HotPocket.createClient([m.url], keys, { protocol: HotPocket.protocols.json, connectionTimeoutMs: 5000 });
      if (!await c.connect()) return false;
      const s = await c.getStatus();
      await c.close();
      return s && Array.isArray(s.currentUnl) && s.currentUnl.length === n;
    }, 15000, `${m.name} takes a UNL of ${n}`);
  }
}

// `binary args…` to its exit, without blocking this process (relays and servers of the test must
// go on running): {status, out} with stdout and stderr together.
function runCommand(binary, args) {
  return new Promise((resolve) => {
    const p = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => resolve({ status: code, out }));
  });
}

module.exports = {
  sleep, withTimeout, hex, waitFor, startRuntime, stopRuntime, connect, outputsOf, input,
  makeOwner, makeMembers, startMembers, writeMembership, waitForUnl, runCommand,
};
