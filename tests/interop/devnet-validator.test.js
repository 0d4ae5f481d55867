// Interop: the devnet's validator as official JS libraries see it. Validations (subscribed with
// xrpl.js) decode with ripple-binary-codec and verify with ripple-keypairs over signing data
// rebuilt here; the manifest (the `manifest` command) verifies the same way; validator_rotate
// publishes manifest 2 and later validations are signed by the new key.
// Usage: node devnet-validator.test.js <path-to-sashimono>
'use strict';
const xrpl = require('xrpl');
const codec = require('ripple-binary-codec');
const keypairs = require('ripple-keypairs');
const addressCodec = require('ripple-address-codec');
const { startDevnet, check } = require('./lib/devnet');

const binary = process.argv[2];
if (!binary) { console.error('usage: node devnet-validator.test.js <sashimono binary>'); process.exit(2); }

// ripple-keypairs throws on a signature it cannot even parse (an ed25519 one for a secp256k1 key).
const verifies = (msg, sig, key) => { try { return keypairs.verify(msg, sig, key); } catch (e) { return false; } };
const hexOfNodeKey = (n) => Buffer.from(addressCodec.decodeNodePublic(n)).toString('hex').toUpperCase();

// "VAL\0" / "MAN\0" + the fields without the signatures, as rippled signs them.
function signingData(prefixHex, decoded, drop) {
  const fields = { ...decoded };
  for (const d of drop) delete fields[d];
  return prefixHex + codec.encode(fields);
}

function checkValidation(v, signingKeyN, label) {
  const st = codec.decode(v.data);
  check(st.LedgerHash === v.ledger_hash, label + ': LedgerHash in data');
  check(st.LedgerSequence === Number(v.ledger_index), label + ': LedgerSequence in data');
  check(st.Flags === 0x80000001 && v.flags === 0x80000001 && v.full === true, label + ': full validation flags');
  check(st.SigningTime === v.signing_time, label + ': SigningTime');
  check(st.Signature === v.signature, label + ': signature field');
  check(BigInt('0x' + st.Cookie).toString() === v.cookie, label + ': cookie');
  check(v.validation_public_key === signingKeyN, label + ': validation_public_key ' + v.validation_public_key + ' is ' + signingKeyN);
  check(st.SigningPubKey === hexOfNodeKey(signingKeyN), label + ': SigningPubKey');
  const msg = signingData('56414C00', st, ['Signature']);
  check(keypairs.verify(msg, st.Signature, st.SigningPubKey) === true, label + ': signature verifies (ripple-keypairs)');
  const changed = msg.slice(0, -1) + (msg.endsWith('0') ? '1' : '0');
  check(verifies(changed, st.Signature, st.SigningPubKey) === false, label + ': a changed message does not verify');
}

async function fetchManifest(client, publicKey) {
  const r = (await client.request({ command: 'manifest', public_key: publicKey })).result;
  check(r.requested === publicKey, 'manifest: requested');
  const hex = Buffer.from(r.manifest, 'base64').toString('hex').toUpperCase();
  const m = codec.decode(hex);
  check(m.PublicKey === hexOfNodeKey(r.details.master_key), 'manifest: PublicKey is the master key');
  check(m.SigningPubKey === hexOfNodeKey(r.details.ephemeral_key), 'manifest: SigningPubKey is the ephemeral key');
  check(m.Sequence === r.details.seq, 'manifest: Sequence');
  const msg = signingData('4D414E00', m, ['Signature', 'MasterSignature']);
  check(keypairs.verify(msg, m.MasterSignature, m.PublicKey) === true, 'manifest: master signature verifies');
  check(keypairs.verify(msg, m.Signature, m.SigningPubKey) === true, 'manifest: signature by the signing key verifies');
  check(verifies(msg, m.MasterSignature, m.SigningPubKey) === false, 'manifest: master signature is not by the signing key');
  return { result: r, decoded: m, hex };
}

function waitFor(pred, what, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const v = pred();
      if (v) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error('timed out waiting for ' + what));
      setTimeout(poll, 20);
    };
    poll();
  });
}

async function main() {
  const dn = await startDevnet(binary, { intervalMs: 200 });
  const client = new xrpl.Client(dn.url);
  client.apiVersion = 2;
  const v1 = new xrpl.Client(dn.url);
  v1.apiVersion = 1;
  try {
    await client.connect();
    await v1.connect();
    check(/^n[1-9A-HJ-NP-Za-km-z]{50,52}$/.test(dn.validatorKey), 'master key printed at start: ' + dn.validatorKey);
    const info = (await client.request({ command: 'server_info' })).result.info;
    check(info.pubkey_validator === dn.validatorKey, 'server_info pubkey_validator');
    check(info.validation_quorum === 1, 'validation_quorum 1');

    const events = [];  // in arrival order, on one connection
    client.on('validationReceived', (v) => events.push(v));
    client.on('ledgerClosed', (l) => events.push(l));
    const eventsV1 = [];
    v1.on('validationReceived', (v) => eventsV1.push(v));
    await client.request({ command: 'subscribe', streams: ['validations', 'ledger', 'manifests'] });
    await v1.request({ command: 'subscribe', streams: ['validations'] });
    const manifests = [];
    client.on('manifestReceived', (m) => manifests.push(m));

    const first = await fetchManifest(client, dn.validatorKey);
    check(first.result.details.seq === 1, 'manifest sequence 1');
    check(first.result.details.master_key === dn.validatorKey, 'manifest master_key');
    const signing1 = first.result.details.ephemeral_key;
    const bySigning = (await client.request({ command: 'manifest', public_key: signing1 })).result;
    check(bySigning.details.master_key === dn.validatorKey, 'manifest by the signing key');
    const unknown = (await client.request({ command: 'manifest', public_key: addressCodec.encodeNodePublic(Buffer.from('02' + '11'.repeat(32), 'hex')) })).result;
    check(Object.keys(unknown).filter((k) => k !== 'warnings').join() === 'requested', 'unknown key: only requested');

    // Three ledgers: each ledgerClosed comes after the validation of the same ledger.
    await waitFor(() => events.filter((e) => e.type === 'ledgerClosed').length >= 3, 'three ledgers');
    for (const [i, e] of events.entries()) {
      if (e.type !== 'ledgerClosed') continue;
      const vi = events.findIndex((v) => v.type === 'validationReceived' && v.ledger_hash === e.ledger_hash);
      check(vi >= 0 && vi < i, 'validation of ledger ' + e.ledger_index + ' before its ledgerClosed');
      const v = events[vi];
      check(v.ledger_index === e.ledger_index, 'v2: ledger_index is the number ' + e.ledger_index);
      check(v.master_key === dn.validatorKey, 'validation master_key');
      check(v.network_id === 0, 'validation network_id');
      checkValidation(v, signing1, 'ledger ' + e.ledger_index);
    }
    const lv1 = await waitFor(() => eventsV1.length > 0 && eventsV1[0], 'a v1 validation');
    check(typeof lv1.ledger_index === 'string', 'v1: ledger_index is a string');
    checkValidation(lv1, signing1, 'v1');

    // Rotation: manifest 2 on the stream, then validations by the new key.
    const rot = (await client.request({ command: 'validator_rotate' })).result;
    check(rot.details.seq === 2, 'validator_rotate answers manifest 2');
    const m2 = await waitFor(() => manifests.find((m) => m.seq === 2), 'manifestReceived seq 2');
    check(m2.master_key === dn.validatorKey && m2.signing_key === rot.details.ephemeral_key && m2.signing_key !== signing1, 'manifest 2 delegates to a new key');
    const second = await fetchManifest(client, dn.validatorKey);
    check(second.result.details.seq === 2 && second.hex === m2.manifest, 'manifest command gives manifest 2');
    check(second.decoded.MasterSignature === m2.master_signature && second.decoded.Signature === m2.signature, 'stream signatures');
    const rotatedAt = events.length;
    const after = await waitFor(() => events.slice(rotatedAt).find((e) => e.type === 'validationReceived'), 'a validation after the rotation');
    checkValidation(after, m2.signing_key, 'after rotation');
    console.log('devnet validator interop: all checks passed');
  } finally {
    for (const x of [client, v1]) if (x.isConnected()) await x.disconnect();
    await dn.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
