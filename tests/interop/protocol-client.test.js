// Interop: docs/PROTOCOL.md is implementable by an outside client.
// Usage: node protocol-client.test.js <path-to-sashimono>
//
// The developer side of the Sashimono wire protocol, written in JavaScript from docs/PROTOCOL.md
// alone (xrpl.js, ripple-keypairs, libsodium-wrappers; no `sashimono lease`/`hosts` command):
// against `sashimono devnet` and `sashimono host run --test-provisioner`, it reads the host's
// `sashimono.host` announcement from the registry's history (§12), seals acquire / extend /
// terminate requests to the announced key (§3, §5), submits them as Payments, and unseals the
// host's replies with the tenant's ed25519 key converted to X25519 (§3, §6), checking every
// field, the lease arithmetic of §9 (moments, maxMoments cap, expiry, refunds) and the reply
// payments of §10. An underpaid acquire gets a plain `acquire.error` / `underpaid` with the full
// refund (§6.5, §7).
'use strict';
const { spawn, execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const xrpl = require('xrpl');
const keypairs = require('ripple-keypairs');
const sodium = require('libsodium-wrappers');
const { startDevnet, check } = require('./lib/devnet');

const binary = process.argv[2];
if (!binary) { console.error('usage: node protocol-client.test.js <sashimono binary>'); process.exit(2); }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RIPPLE_EPOCH = 946684800;
const SEALED = 'application/x-sashimono-sealed';
const PLAIN = 'application/json';

// ---- §1 / §4.1 value patterns ---------------------------------------------------------------
const isKey = (s) => typeof s === 'string' && /^ED[0-9A-F]{64}$/.test(s);           // hosts render upper case
const isHash = (s) => typeof s === 'string' && /^[0-9A-F]{64}$/.test(s);
const isDrops = (s) => typeof s === 'string' && /^(0|[1-9][0-9]*)$/.test(s) && BigInt(s) <= 10n ** 17n;
const isInt = (n) => Number.isSafeInteger(n) && n >= 0;
const isPort = (n) => Number.isInteger(n) && n >= 1 && n <= 65535;
const keysInOrder = (o, keys, what) =>
  check(JSON.stringify(Object.keys(o)) === JSON.stringify(keys), `${what}: fields ${JSON.stringify(Object.keys(o))} = ${JSON.stringify(keys)} (canonical order, §4)`);

// ---- §2 memos -------------------------------------------------------------------------------
const hex = (buf) => Buffer.from(buf).toString('hex').toUpperCase();
const unhex = (s) => Buffer.from(s, 'hex');

function sashimonoMemos(tx) {
  return (tx.Memos || []).map((m) => m.Memo)
    .filter((m) => m.MemoType && unhex(m.MemoType).toString('utf8').startsWith('sashimono.'));
}

// §3: byte 0 = 0x01, then crypto_box_seal(payload, X25519(recipient ed25519 key)).
function seal(payload, ed25519Key) {
  const json = Buffer.from(JSON.stringify(payload), 'utf8');
  check(json.length <= 851, `sealed payload ${json.length} <= 851 bytes (§2.2)`);
  const x = sodium.crypto_sign_ed25519_pk_to_curve25519(unhex(ed25519Key.slice(2)));
  const env = Buffer.concat([Buffer.from([0x01]), Buffer.from(sodium.crypto_box_seal(json, x))]);
  check(env.length <= 900, 'envelope <= 900 bytes');
  return env;
}

// The XRPL ed25519 private key (ripple-keypairs: "ED" + 32 bytes) is the RFC 8032 seed; libsodium's
// 64-byte secret key is seed ‖ public key, from crypto_sign_seed_keypair.
function x25519Pair(wallet) {
  const kp = sodium.crypto_sign_seed_keypair(unhex(wallet.privateKey.slice(2)));
  check(hex(kp.publicKey) === wallet.publicKey.slice(2), 'libsodium ed25519 key = the wallet key');
  return {
    publicKey: sodium.crypto_sign_ed25519_pk_to_curve25519(kp.publicKey),
    privateKey: sodium.crypto_sign_ed25519_sk_to_curve25519(kp.privateKey),
  };
}

function open(envelope, pair) {
  check(envelope[0] === 0x01, 'envelope version byte 0x01');
  const plain = sodium.crypto_box_seal_open(envelope.subarray(1), pair.publicKey, pair.privateKey);
  return Buffer.from(plain).toString('utf8');
}

// A strict JSON parse (§4): one object, no duplicate keys (checked by re-rendering: a host renders
// compact canonical JSON, so the text must be exactly what JSON.stringify gives back).
function parseStrict(text, what) {
  const o = JSON.parse(text);
  check(o && typeof o === 'object' && !Array.isArray(o), `${what}: an object`);
  check(JSON.stringify(o) === text, `${what}: compact canonical JSON: ${text}`);
  check(o.v === 1, `${what}: v = 1`);
  return o;
}

async function main() {
  await sodium.ready;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sashi-protoclient-'));
  const dn = await startDevnet(binary, { intervalMs: 100 });
  const client = new xrpl.Client(dn.url);
  let host = null;
  let hostLog = '';
  const watchdog = setTimeout(() => {
    console.error('timeout; host log:\n' + hostLog);
    if (host) host.kill('SIGKILL');
    dn.proc.kill('SIGKILL');
    fs.rmSync(dn.dataDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(1);
  }, 60000);
  try {
    await client.connect();
    const genesis = xrpl.Wallet.fromSeed(dn.seed);
    const registry = xrpl.Wallet.generate('ed25519');
    const tenant = xrpl.Wallet.generate('ed25519');
    const tenantX = x25519Pair(tenant);

    // A host: `host init`, then a short offer (4 slots, at most 5 moments) of the image "hotpocket".
    const cfgPath = path.join(tmp, 'host.json');
    const initOut = execFileSync(binary, ['host', 'init', '--config', cfgPath, '--board', dn.url,
      '--address', '127.0.0.1', '--registry', registry.address, '--data', path.join(tmp, 'data')], { encoding: 'utf8' });
    const hostAddress = initOut.match(/account: (r\S+)/)[1];
    const initKey = initOut.match(/key:\s+(ED[0-9A-F]{64})/)[1];
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    cfg.tenants.images = ['hotpocket'];
    cfg.pricing = { pricePerMoment: 1000, momentSeconds: 3600, maxMoments: 5 };
    cfg.ports.bindAddress = '127.0.0.1';
    cfg.metrics = { address: '127.0.0.1:0' };  // tests run several nodes at once
    fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));

    const pay = async (from, to, amount, memos) => {
      const tx = { TransactionType: 'Payment', Account: from.address, Destination: to, Amount: String(amount) };
      if (memos) tx.Memos = memos;
      const signed = from.sign(await client.autofill(tx));
      const r = await client.submitAndWait(signed.tx_blob);
      check(r.result.validated === true && r.result.meta.TransactionResult === 'tesSUCCESS', 'payment validated tesSUCCESS');
      return signed.hash;
    };
    for (const a of [registry.address, hostAddress, tenant.address]) await pay(genesis, a, 100_000000);

    host = spawn(binary, ['host', 'run', '--config', cfgPath, '--test-provisioner', path.join(tmp, 'prov'), '--tick-ms', '100'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    host.stdout.on('data', (d) => { hostLog += d; });
    host.stderr.on('data', (d) => { hostLog += d; });
    const hostExited = new Promise((r) => host.on('exit', (code, signal) => r({ code, signal })));

    // ---- §12: discover the host from the registry's history --------------------------------
    const history = async (account) => {
      const r = await client.request({ command: 'account_tx', account, ledger_index_min: -1, ledger_index_max: -1, limit: 400 });
      return r.result.transactions;
    };
    const announcements = async () => {
      const out = [];
      for (const t of await history(registry.address)) {
        const tx = t.tx_json;
        if (!t.validated || t.meta.TransactionResult !== 'tesSUCCESS' || tx.TransactionType !== 'Payment' || tx.Destination !== registry.address) continue;
        const memos = sashimonoMemos(tx);
        if (memos.length !== 1 || unhex(memos[0].MemoType).toString() !== 'sashimono.host') continue;
        check(unhex(memos[0].MemoFormat).toString() === PLAIN, 'announcement is plain');
        const a = parseStrict(unhex(memos[0].MemoData).toString('utf8'), 'announcement');
        if (keypairs.deriveAddress(a.key) !== tx.Account) continue; // §12: key must be the sender's
        out.push({ a, tx, hash: t.hash, date: tx.date, amount: t.meta.delivered_amount });
      }
      return out; // newest first (account_tx order)
    };
    const newestAnnouncement = async (pred = () => true, what = 'announcement') => {
      const deadline = Date.now() + 15000;
      for (;;) {
        const ann = (await announcements()).filter((x) => x.tx.Account === hostAddress);
        if (ann.length && pred(ann[0].a)) return ann[0];
        if (Date.now() > deadline) throw new Error(`no ${what}; host log:\n${hostLog}`);
        if (host.exitCode !== null) throw new Error('host exited; log:\n' + hostLog);
        await sleep(100);
      }
    };
    const ann = await newestAnnouncement();
    const A = ann.a;
    keysInOrder(A, ['v', 'version', 'key', 'host', 'instances', 'free', 'cpuMillis', 'memoryMiB', 'swapMiB', 'diskMiB',
      'price', 'momentSeconds', 'maxMoments', 'images', 'heartbeatSeconds', 'time'], 'announcement');
    check(ann.amount === '1', 'announcement pays 1 drop');
    check(ann.tx.SigningPubKey === A.key, 'announcement signed by the host key');
    check(A.key === initKey && isKey(A.key), 'announced key = the key `host init` printed');
    check(/^[0-9A-Za-z.+-]{1,32}$/.test(A.version), 'version string');
    check(A.host === '127.0.0.1', 'announced host');
    check(A.instances === 4 && A.free === 4, 'slots: ' + A.instances + '/' + A.free);
    check(A.price === '1000' && A.momentSeconds === 3600 && A.maxMoments === 5, 'pricing as configured');
    check(JSON.stringify(A.images) === '["hotpocket"]', 'images');
    check(isInt(A.heartbeatSeconds) && A.heartbeatSeconds >= 1 && isInt(A.time), 'heartbeat, time');
    const nowSec = () => Math.floor(Date.now() / 1000);
    // §12 staleness, on the ledger's clock: the announcement's close time against the newest
    // validated ledger's (the devnet's close time runs ahead of wall time: ≥ 1 s per ledger).
    const closed = (await client.request({ command: 'ledger', ledger_index: 'validated' })).result.ledger;
    check(typeof ann.date === 'number' && closed.close_time - ann.date < 3 * A.heartbeatSeconds, 'host is fresh (§12)');
    check(Math.abs(A.time - nowSec()) <= 5, `announcement time ${A.time} ~ now (host clock)`);
    const price = BigInt(A.price);
    const moment = A.momentSeconds;

    // ---- §5: requests; §6: replies ----------------------------------------------------------
    const request = (type, payload, drops) => pay(tenant, hostAddress, drops, [{ Memo: {
      MemoType: hex(Buffer.from(type)), MemoFormat: hex(Buffer.from(SEALED)), MemoData: hex(seal(payload, A.key)),
    } }]);

    // All replies in the tenant's history, decoded per §6 and keyed by `request`.
    const replies = async () => {
      const out = new Map();
      for (const t of await history(tenant.address)) {
        const tx = t.tx_json;
        if (!t.validated || tx.TransactionType !== 'Payment' || tx.Account !== hostAddress) continue;
        const memos = sashimonoMemos(tx);
        check(memos.length === 1 && (tx.Memos || []).length === 1, 'a reply carries exactly one memo');
        const type = unhex(memos[0].MemoType).toString('utf8');
        const format = unhex(memos[0].MemoFormat).toString('utf8');
        const data = unhex(memos[0].MemoData);
        const text = format === SEALED ? open(data, tenantX) : data.toString('utf8');
        const body = parseStrict(text, type);
        out.set(body.request, { type, format, body, tx, hash: t.hash, delivered: t.meta.delivered_amount, result: t.meta.TransactionResult });
      }
      return out;
    };
    const awaitReply = async (hash) => {
      const deadline = Date.now() + 15000;
      for (;;) {
        const r = (await replies()).get(hash);
        if (r) {
          // §10: a Payment from the host, master-signed, Amount = refund (or 1 drop when 0).
          check(r.result === 'tesSUCCESS' && r.tx.Destination === tenant.address, 'reply: tesSUCCESS to the tenant');
          check(r.tx.SigningPubKey === A.key, 'reply signed by the host key');
          check(isDrops(r.body.refund), 'refund: drops string');
          const amount = r.body.refund === '0' ? '1' : r.body.refund;
          check(r.tx.DeliverMax === amount && r.delivered === amount, `reply Amount ${r.delivered} = ${amount}`);
          return r;
        }
        if (Date.now() > deadline) throw new Error(`no reply to ${hash}; host log:\n${hostLog}`);
        if (host.exitCode !== null) throw new Error('host exited; log:\n' + hostLog);
        await sleep(100);
      }
    };

    // Acquire: 3 moments + 500 drops → m = 3, refund 500.
    const contractId = crypto.randomUUID();
    const acquire = { v: 1, contractId, image: 'hotpocket', owner: tenant.publicKey,
      config: { roundtimeMs: 500, env: { GREETING: 'hello' } } };
    const t0 = nowSec();
    const acqHash = await request('sashimono.acquire', acquire, 3n * price + 500n);
    const ok = await awaitReply(acqHash);
    const t1 = nowSec();
    check(ok.type === 'sashimono.acquire.ok' && ok.format === SEALED, 'acquire.ok, sealed: ' + ok.type + ' ' + JSON.stringify(ok.body));
    const O = ok.body;
    keysInOrder(O, ['v', 'request', 'leaseId', 'instance', 'moments', 'momentSeconds', 'expiry', 'price', 'refund'], 'acquire.ok');
    check(O.request === acqHash && O.leaseId === acqHash && isHash(O.leaseId), 'request = leaseId = the acquire hash');
    keysInOrder(O.instance, ['pubkey', 'host', 'userPort', 'peerPort', 'ports'], 'acquire.ok instance');
    check(isKey(O.instance.pubkey), 'instance key');
    check(O.instance.host === '127.0.0.1', 'instance host');
    check(isPort(O.instance.userPort) && isPort(O.instance.peerPort), 'user/peer ports');
    check(Array.isArray(O.instance.ports) && O.instance.ports.length <= 4 && O.instance.ports.every(isPort), 'general ports');
    check(O.moments === 3 && O.momentSeconds === moment && O.price === A.price && O.refund === '500', 'moments 3, price, refund 500');
    const start = O.expiry - 3 * moment; // §9: expiry = s + m·momentSeconds, s = when the instance ran
    check(start >= t0 - 1 && start <= t1 + 1, `lease start ${start} within [${t0}, ${t1}]`);

    // §12: the free slots changed, so the host announces again.
    await newestAnnouncement((a) => a.free === 3, 'announcement with free = 3');

    // Extend with 4 moments + 999: held = 3, room = maxMoments − held = 2 → k = 2, refund 2999.
    const extHash = await request('sashimono.extend', { v: 1, leaseId: acqHash }, 4n * price + 999n);
    const ext = await awaitReply(extHash);
    check(ext.type === 'sashimono.extend.ok' && ext.format === SEALED, 'extend.ok, sealed: ' + ext.type + ' ' + JSON.stringify(ext.body));
    keysInOrder(ext.body, ['v', 'request', 'leaseId', 'moments', 'expiry', 'refund'], 'extend.ok');
    check(ext.body.request === extHash && ext.body.leaseId === acqHash, 'extend.ok request, leaseId');
    check(ext.body.moments === 2 && ext.body.refund === '2999', 'extend capped by maxMoments: ' + JSON.stringify(ext.body));
    check(ext.body.expiry === O.expiry + 2 * moment, 'expiry moved from the old expiry by 2 moments');

    // A full lease cannot be extended: moments_limit, all refunded (plain error).
    const fullHash = await request('sashimono.extend', { v: 1, leaseId: acqHash }, price);
    const full = await awaitReply(fullHash);
    check(full.type === 'sashimono.extend.error' && full.format === PLAIN, 'extend.error plain');
    check(full.body.reason === 'moments_limit' && full.body.refund === String(price) && full.body.leaseId === acqHash,
      'moments_limit, full refund: ' + JSON.stringify(full.body));

    // Terminate with 1 drop at t: u = ⌊(expiry − t) / moment⌋ = 4 (5 moments held, one in progress).
    const tt = nowSec();
    const termHash = await request('sashimono.terminate', { v: 1, leaseId: acqHash }, 1);
    const term = await awaitReply(termHash);
    check(term.type === 'sashimono.terminate.ok' && term.format === SEALED, 'terminate.ok, sealed: ' + term.type + ' ' + JSON.stringify(term.body));
    keysInOrder(term.body, ['v', 'request', 'leaseId', 'moments', 'refund'], 'terminate.ok');
    const u = Math.floor((ext.body.expiry - tt) / moment);
    check(term.body.request === termHash && term.body.leaseId === acqHash, 'terminate.ok request, leaseId');
    check(term.body.moments === u && u === 4 && term.body.refund === String(1n + BigInt(u) * price), 'terminate refund: ' + JSON.stringify(term.body));
    await newestAnnouncement((a) => a.free === 4, 'announcement with free = 4 after terminate');

    // The lease is gone: a second terminate is refused unknown_lease with its amount back.
    const againHash = await request('sashimono.terminate', { v: 1, leaseId: acqHash }, 7);
    const again = await awaitReply(againHash);
    check(again.type === 'sashimono.terminate.error' && again.body.reason === 'unknown_lease' && again.body.refund === '7',
      'terminate of a terminated lease: ' + JSON.stringify(again.body));

    // Underpaid acquire: plain acquire.error, reason underpaid, everything refunded.
    const lowHash = await request('sashimono.acquire', { v: 1, contractId: crypto.randomUUID(), image: 'hotpocket', owner: tenant.publicKey }, price - 1n);
    const low = await awaitReply(lowHash);
    check(low.type === 'sashimono.acquire.error' && low.format === PLAIN, 'acquire.error plain: ' + low.type);
    keysInOrder(low.body, ['v', 'request', 'reason', 'detail', 'refund'], 'acquire.error');
    check(low.body.request === lowHash && low.body.reason === 'underpaid' && low.body.refund === String(price - 1n), 'underpaid, full refund');
    check(/^[\x20-\x7e]{0,200}$/.test(low.body.detail), 'detail: printable ASCII <= 200');

    // An acquire paying for more than maxMoments buys maxMoments and refunds the rest.
    const bigHash = await request('sashimono.acquire', { v: 1, contractId: crypto.randomUUID(), image: 'hotpocket', owner: tenant.publicKey }, 7n * price + 1n);
    const big = await awaitReply(bigHash);
    check(big.type === 'sashimono.acquire.ok' && big.body.moments === 5 && big.body.refund === String(2n * price + 1n),
      'acquire capped at maxMoments: ' + JSON.stringify(big.body));

    // Every request got exactly one reply (§10).
    const all = await replies();
    const mine = [acqHash, extHash, fullHash, termHash, againHash, lowHash, bigHash];
    check(mine.every((h) => all.has(h)) && all.size === mine.length, 'one reply per request');

    host.kill('SIGTERM');
    const ex = await hostExited;
    check(ex.code === 0, 'host run exits 0 on SIGTERM: ' + JSON.stringify(ex));
    console.log(`protocol-client interop: ok (host ${hostAddress}, lease ${acqHash.slice(0, 16)}…, ${mine.length} requests)`);
  } finally {
    clearTimeout(watchdog);
    if (host && host.exitCode === null && host.signalCode === null) {
      host.kill('SIGKILL');
      await new Promise((r) => host.once('exit', r));
    }
    if (client.isConnected()) await client.disconnect();
    if (dn.proc.exitCode === null) await dn.stop();
    fs.rmSync(dn.dataDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
