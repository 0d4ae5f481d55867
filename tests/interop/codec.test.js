// Interop: our XRPL codec, signing and key derivation against the official npm packages
// (ripple-binary-codec, ripple-keypairs, xrpl). Plain node; exits non-zero on any failure.
//
//   node codec.test.js <path-to-sashimono>   [N=count of random transactions, default 600]
//
// Talks to `sashimono codec` (JSON lines on stdin/stdout), started once.
'use strict';
const { spawn } = require('child_process');
const assert = require('assert');
const readline = require('readline');
const codec = require('ripple-binary-codec');
const keypairs = require('ripple-keypairs');
const { hashes } = require('xrpl');

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node codec.test.js <path-to-sashimono>');
  process.exit(2);
}
const COUNT = Number(process.env.N || 600);

// ---- a small deterministic PRNG so failures can be reproduced (SEED env) ----
let state = BigInt(process.env.SEED || Date.now()) & 0xffffffffn;
const seedUsed = state;
function rand() {
  // xorshift32
  let x = Number(state) >>> 0;
  x ^= x << 13; x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5; x >>>= 0;
  state = BigInt(x || 1);
  return x / 0x100000000;
}
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const chance = (p) => rand() < p;
const pick = (arr) => arr[int(0, arr.length - 1)];
const hex = (n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += int(0, 255).toString(16).padStart(2, '0');
  return s.toUpperCase();
};
const u32 = () => int(0, 0xffffffff);

// ---- the codec service ----
const child = spawn(binary, ['codec'], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = readline.createInterface({ input: child.stdout });
const waiting = [];
lines.on('line', (line) => {
  const w = waiting.shift();
  if (w) w(JSON.parse(line));
});
child.on('exit', (code) => {
  if (waiting.length) {
    console.error(`sashimono codec exited early (code ${code})`);
    process.exit(1);
  }
});
function call(req) {
  return new Promise((resolve) => {
    waiting.push(resolve);
    child.stdin.write(JSON.stringify(req) + '\n');
  });
}

// ---- random transactions ----
const ISO_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789?!@#$%^&*(){}[]|';
function currency() {
  if (chance(0.2)) return '01' + hex(19); // non-standard 160-bit code
  for (;;) {
    const c = pick(['USD', 'EUR', 'BTC']) && chance(0.5) ? pick(['USD', 'EUR', 'BTC', 'CNY'])
      : ISO_CHARS[int(0, ISO_CHARS.length - 1)] + ISO_CHARS[int(0, ISO_CHARS.length - 1)] + ISO_CHARS[int(0, ISO_CHARS.length - 1)];
    if (c !== 'XRP') return c;
  }
}
function iouValue() {
  if (chance(0.05)) return '0';
  const n = chance(0.02) ? int(17, 20) : int(1, 16); // sometimes too precise: both must refuse
  let digits = String(int(1, 9));
  for (let i = 1; i < n; i++) digits += String(int(0, 9));
  const sign = chance(0.2) ? '-' : '';
  switch (int(0, 2)) {
    case 0: return sign + digits; // integer
    case 1: { // decimal point somewhere (possibly leading 0.000…)
      const lead = int(0, 10);
      const at = int(0, digits.length);
      return at === 0 ? `${sign}0.${'0'.repeat(lead)}${digits}` : `${sign}${digits.slice(0, at)}.${digits.slice(at) || '0'}`;
    }
    default: return `${sign}${digits}e${int(-60, 50)}`; // exponent form
  }
}
function amount(accounts, xrpOnly) {
  if (xrpOnly || chance(0.5)) {
    return chance(0.1) ? '100000000000000000' : String(int(0, 2 ** 31) * (chance(0.3) ? int(1, 40000000) : 1));
  }
  return { currency: currency(), issuer: pick(accounts).address, value: iouValue() };
}
function memos() {
  const out = [];
  const n = int(1, 3);
  for (let i = 0; i < n; i++) {
    const m = {};
    const size = () => (chance(0.05) ? int(12481, 13000) : chance(0.2) ? int(193, 400) : int(0, 192));
    if (chance(0.7)) m.MemoType = hex(size());
    if (chance(0.8)) m.MemoData = hex(size());
    if (chance(0.4)) m.MemoFormat = hex(size());
    out.push({ Memo: m });
  }
  return out;
}
function randomTx(accounts) {
  const from = pick(accounts);
  const tx = { Account: from.address, Fee: String(int(10, 100000)), Sequence: u32() };
  if (chance(0.8)) tx.Flags = chance(0.5) ? 0 : u32();
  if (chance(0.5)) {
    tx.TransactionType = 'Payment';
    tx.Destination = pick(accounts).address;
    tx.Amount = amount(accounts, false);
    if (chance(0.3)) tx.SendMax = amount(accounts, false);
    if (chance(0.2)) tx.DeliverMin = amount(accounts, false);
    if (chance(0.4)) tx.DestinationTag = u32();
    if (chance(0.2)) tx.InvoiceID = hex(32);
  } else {
    tx.TransactionType = 'AccountSet';
    if (chance(0.5)) tx.SetFlag = int(0, 16);
    if (chance(0.3)) tx.ClearFlag = int(0, 16);
    if (chance(0.4)) tx.Domain = hex(int(0, 64));
    if (chance(0.3)) tx.EmailHash = chance(0.2) ? '' : hex(16);
    if (chance(0.2)) tx.MessageKey = hex(33);
    if (chance(0.3)) tx.TransferRate = chance(0.3) ? 0 : int(1000000000, 2000000000);
    if (chance(0.3)) tx.TickSize = chance(0.3) ? 0 : int(3, 15);
  }
  if (chance(0.3)) tx.SourceTag = u32();
  if (chance(0.5)) tx.LastLedgerSequence = u32();
  if (chance(0.2)) tx.TicketSequence = u32();
  if (chance(0.2)) tx.NetworkID = int(1025, 0xffffffff);
  if (chance(0.5)) tx.Memos = memos();
  return tx;
}

// ---- checks ----
let checks = 0;
const failures = [];
function check(label, fn) {
  try {
    fn();
    checks++;
  } catch (e) {
    failures.push(`${label}: ${e.message.slice(0, 600)}`);
  }
}

async function main() {
  // Keys: our derivation equals ripple-keypairs for both algorithms.
  const accounts = [];
  for (let i = 0; i < 16; i++) {
    const algorithm = i % 2 ? 'ecdsa-secp256k1' : 'ed25519';
    const seed = keypairs.generateSeed({ algorithm });
    const kp = keypairs.deriveKeypair(seed);
    const acct = { seed, ...kp, address: keypairs.deriveAddress(kp.publicKey), algorithm };
    accounts.push(acct);
    const ours = await call({ op: 'derive', seed });
    check(`derive ${algorithm}`, () => {
      assert.strictEqual(ours.ok, true, ours.error);
      assert.strictEqual(ours.publicKey, kp.publicKey);
      assert.strictEqual(ours.privateKey, kp.privateKey);
      assert.strictEqual(ours.address, acct.address);
    });
  }

  let txs = 0;
  let refused = 0;
  for (let i = 0; i < COUNT; i++) {
    const tx = randomTx(accounts);
    const signer = accounts.find((a) => a.address === tx.Account);
    const label = `tx ${i} (${tx.TransactionType}, ${signer.algorithm})`;
    let theirHex;
    try {
      theirHex = codec.encode(tx);
    } catch (e) {
      // ripple-binary-codec refused (e.g. IOU precision): ours must refuse too.
      const ours = await call({ op: 'encode', json: tx });
      refused++;
      check(`${label} refused by both`, () => assert.strictEqual(ours.ok, false, `we accepted what ripple-binary-codec rejects (${e.message}): ${JSON.stringify(tx)}`));
      continue;
    }
    txs++;
    // Unsigned encoding and signing data.
    const enc = await call({ op: 'encode', json: tx });
    check(`${label} encode`, () => {
      assert.strictEqual(enc.ok, true, enc.error);
      assert.strictEqual(enc.hex, theirHex);
    });
    const encSign = await call({ op: 'encode_signing', json: tx });
    check(`${label} encode_signing`, () => assert.strictEqual(encSign.hex, codec.encodeForSigning(tx)));

    // Their encoding decoded by ours.
    const dec = await call({ op: 'decode', hex: theirHex });
    check(`${label} decode theirs`, () => {
      assert.strictEqual(dec.ok, true, dec.error);
      assert.deepStrictEqual(dec.json, codec.decode(theirHex));
    });

    // Signed by us: verified by ripple-keypairs, decoded by theirs, hash equal to xrpl's.
    const signed = await call({ op: 'sign', json: tx, seed: signer.seed });
    check(`${label} our signature`, () => {
      assert.strictEqual(signed.ok, true, signed.error);
      const back = codec.decode(signed.hex);
      assert.strictEqual(back.SigningPubKey, signer.publicKey);
      assert.ok(keypairs.verify(codec.encodeForSigning(back), back.TxnSignature, back.SigningPubKey), 'ripple-keypairs rejects our signature');
      assert.strictEqual(signed.hash, hashes.hashSignedTx(signed.hex));
      assert.strictEqual(codec.encode(back), signed.hex);
    });

    // Signed by them: verified by us (JSON and fast path agree inside the service).
    const theirs = { ...tx, SigningPubKey: signer.publicKey };
    theirs.TxnSignature = keypairs.sign(codec.encodeForSigning(theirs), signer.privateKey);
    const theirSigned = codec.encode(theirs);
    const ver = await call({ op: 'verify', hex: theirSigned });
    check(`${label} their signature`, () => {
      assert.strictEqual(ver.ok, true, ver.error);
      assert.strictEqual(ver.hash, hashes.hashSignedTx(theirSigned));
      assert.strictEqual(ver.signing, codec.encodeForSigning(theirs));
    });
    const h = await call({ op: 'hash', hex: theirSigned });
    check(`${label} hash`, () => assert.strictEqual(h.hash, hashes.hashSignedTx(theirSigned)));

    // Our decoding of the signed blob equals theirs.
    const dec2 = await call({ op: 'decode', hex: theirSigned });
    check(`${label} decode signed`, () => assert.deepStrictEqual(dec2.json, codec.decode(theirSigned)));

    // Negative cases, every tenth transaction.
    if (i % 10 === 0) {
      const sig = theirs.TxnSignature;
      const flipped = sig.slice(0, 20) + (sig[20] === '0' ? '1' : '0') + sig.slice(21);
      const bad = await call({ op: 'verify', hex: codec.encode({ ...theirs, TxnSignature: flipped }) });
      check(`${label} tampered signature`, () => {
        assert.strictEqual(bad.ok, false);
        assert.strictEqual(bad.code, 'temBAD_SIGNATURE');
      });
      const other = accounts.find((a) => a.address !== tx.Account);
      const wrong = { ...tx, SigningPubKey: other.publicKey };
      wrong.TxnSignature = keypairs.sign(codec.encodeForSigning(wrong), other.privateKey);
      const auth = await call({ op: 'verify', hex: codec.encode(wrong) });
      check(`${label} key of another account`, () => {
        assert.strictEqual(auth.ok, false);
        assert.strictEqual(auth.code, 'tefBAD_AUTH');
      });
      // A truncated blob fails, unless the cut removed whole trailing fields (then it is a valid blob).
      const cutHex = theirSigned.slice(0, theirSigned.length - 2 * int(1, 10));
      const cut = await call({ op: 'decode', hex: cutHex });
      check(`${label} truncated`, () => assert.ok(!cut.ok || codec.encode(cut.json) === cutHex, 'accepted a truncated blob'));
    }
  }

  // Metadata shaped like rippled's, as the devnet produces it: ours decoded by theirs and back.
  const meta = {
    TransactionIndex: 0,
    TransactionResult: 'tesSUCCESS',
    delivered_amount: undefined,
    DeliveredAmount: '1000000',
    AffectedNodes: [
      { ModifiedNode: { LedgerEntryType: 'AccountRoot', LedgerIndex: hex(32), PreviousTxnID: hex(32), PreviousTxnLgrSeq: 5,
        FinalFields: { Account: accounts[0].address, Balance: '99999990', Flags: 0, OwnerCount: 0, Sequence: 2 },
        PreviousFields: { Balance: '100999990', Sequence: 1 } } },
      { CreatedNode: { LedgerEntryType: 'AccountRoot', LedgerIndex: hex(32),
        NewFields: { Account: accounts[1].address, Balance: '1000000', Sequence: 1 } } },
    ],
  };
  delete meta.delivered_amount;
  const metaEnc = await call({ op: 'encode', json: meta });
  check('metadata', () => {
    assert.strictEqual(metaEnc.ok, true, metaEnc.error);
    assert.strictEqual(metaEnc.hex, codec.encode(meta));
    assert.deepStrictEqual(codec.decode(metaEnc.hex), meta);
  });

  // Errors name the problem rather than crashing the service.
  for (const [req, want] of [
    [{ op: 'encode', json: { Foo: 1 } }, "unknown field 'Foo'"],
    [{ op: 'encode', json: { TransactionType: 'Nope' } }, 'unknown TransactionType'],
    [{ op: 'decode', hex: 'FF' }, 'unknown field'],
    [{ op: 'verify', hex: '120000' }, 'no Account'],
    [{ op: 'nope' }, 'unknown op'],
  ]) {
    const r = await call(req);
    check(`error ${JSON.stringify(req)}`, () => {
      assert.strictEqual(r.ok, false);
      assert.ok(r.error.includes(want), r.error);
    });
  }

  child.stdin.end();
  console.log(`codec interop: ${txs} random transactions + ${refused} refused by both (seed ${seedUsed}), ${checks} checks passed, ${failures.length} failed`);
  if (failures.length) {
    for (const f of failures.slice(0, 20)) console.error('FAIL ' + f);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
