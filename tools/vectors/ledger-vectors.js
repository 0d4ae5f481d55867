#!/usr/bin/env node
// Writes the XRPL ledger test vectors of tests/testdata/ (used by tests/unit/ledger/LedgerHashTest.cpp)
// from ledger fixtures of the public repository XRPLF/xrpl.js, which hold real mainnet ledgers as
// rippled answered them in JSON (transactions with their metadata, some with the account state):
//
//   packages/ripple-binary-codec/test/fixtures/ledger-full-38129.json  (1 Payment)
//   packages/ripple-binary-codec/test/fixtures/ledger-full-40000.json  (no transactions)
//   packages/xrpl/test/fixtures/rippled/ledgerFull7501326.json         (17 transactions; its header
//                                                                       lacks parent_close_time and
//                                                                       close_flags: tx tree only)
//   packages/xrpl/test/fixtures/requests/hashLedger.json               (header of ledger 15202439)
//
// Each transaction and its metadata are converted to canonical binary with the official
// ripple-binary-codec; the account state is dropped. Before writing, the script checks with
// xrpl.js's own hashes (hashSignedTx, hashTxTree, hashLedger) that the binary forms give the
// published transaction ids, transaction_hash and ledger_hash, so the vectors hold only what the
// reference implementation agrees with.
//
// Usage (node >= 18; xrpl and ripple-binary-codec from tests/interop/node_modules, installed by
// tools/setup.sh):
//   git clone https://github.com/XRPLF/xrpl.js /tmp/xrpl.js   # any commit holding the files above
//   node tools/vectors/ledger-vectors.js /tmp/xrpl.js [out-dir]   # out-dir: tests/testdata
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const repoRoot = path.resolve(__dirname, '..', '..');
const interopRequire = createRequire(path.join(repoRoot, 'tests', 'interop', 'package.json'));
const codec = interopRequire('ripple-binary-codec');
const xrpl = interopRequire('xrpl');

const src = process.argv[2];
const outDir = process.argv[3] || path.join(repoRoot, 'tests', 'testdata');
if (!src) {
  console.error('usage: node ledger-vectors.js <xrpl.js checkout> [out-dir]');
  process.exit(2);
}

const fixtures = {
  l38129: 'packages/ripple-binary-codec/test/fixtures/ledger-full-38129.json',
  l40000: 'packages/ripple-binary-codec/test/fixtures/ledger-full-40000.json',
  l7501326: 'packages/xrpl/test/fixtures/rippled/ledgerFull7501326.json',
  l15202439: 'packages/xrpl/test/fixtures/requests/hashLedger.json',
};

function load(rel) {
  let l = JSON.parse(fs.readFileSync(path.join(src, rel), 'utf8'));
  if (l.result) l = l.result;
  if (l.ledger) l = l.ledger;
  return l;
}

function fail(message) {
  throw new Error('vector check failed: ' + message);
}

// The header fields, as numbers and upper-case hex; null where the fixture lacks a field.
function header(l) {
  const num = (v) => (v === undefined ? null : Number(v));
  return {
    ledger_index: Number(l.ledger_index),
    total_coins: l.total_coins,
    parent_hash: l.parent_hash,
    transaction_hash: l.transaction_hash,
    account_hash: l.account_hash,
    parent_close_time: num(l.parent_close_time),
    close_time: num(l.close_time),
    close_time_resolution: num(l.close_time_resolution),
    close_flags: num(l.close_flags),
  };
}

function binaryTxs(l) {
  return (l.transactions || []).map((t) => {
    const { metaData, hash, ...tx } = t;
    const txBlob = codec.encode(tx);
    const meta = codec.encode(metaData);
    if (xrpl.hashes.hashSignedTx(txBlob) !== hash) fail(`tx ${hash}: blob hashes to another id`);
    return { hash, tx_blob: txBlob, meta };
  });
}

function checkTree(l, txs) {
  // hashTxTree takes JSON transactions with metaData; rebuild them from the binary forms.
  const json = txs.map((t) => ({ ...codec.decode(t.tx_blob), metaData: codec.decode(t.meta) }));
  const root = txs.length === 0 ? '0'.repeat(64) : xrpl.hashes.hashTxTree(json);
  if (root !== l.transaction_hash) fail(`ledger ${l.ledger_index}: tx tree ${root} != ${l.transaction_hash}`);
}

function checkHeader(l) {
  const h = xrpl.hashes.hashLedgerHeader({ ...l, ledger_index: Number(l.ledger_index) });
  if (h !== l.ledger_hash) fail(`ledger ${l.ledger_index}: header ${h} != ${l.ledger_hash}`);
}

function source(rel) {
  return `XRPLF/xrpl.js ${rel}; mainnet ledger, converted to binary with ripple-binary-codec ` +
    `${interopRequire('ripple-binary-codec/package.json').version} by tools/vectors/ledger-vectors.js`;
}

function write(name, value) {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, name), JSON.stringify(value, null, 1) + '\n');
  console.log('wrote', path.join(outDir, name));
}

function fullLedger(key, withHeader) {
  const l = load(fixtures[key]);
  const txs = binaryTxs(l);
  checkTree(l, txs);
  if (withHeader) checkHeader(l);
  return {
    source: source(fixtures[key]),
    header: header(l),
    header_complete: withHeader,
    ledger_hash: l.ledger_hash,
    transaction_hash: l.transaction_hash,
    transactions: txs,
  };
}

const main = fullLedger('l38129', true);
write('xrpl-ledger-38129.json', main);

const many = fullLedger('l7501326', false);
many.note = 'the fixture has no parent_close_time or close_flags: only the transaction tree is checked';
write('xrpl-ledger-7501326.json', many);

const headers = [];
for (const key of ['l40000', 'l15202439']) {
  const l = load(fixtures[key]);
  checkHeader(l);
  if (key === 'l40000') checkTree(l, binaryTxs(l));
  headers.push({ source: source(fixtures[key]), header: header(l), ledger_hash: l.ledger_hash });
}
write('xrpl-ledger-headers.json', { note: 'header-only vectors (no transactions kept)', ledgers: headers });
