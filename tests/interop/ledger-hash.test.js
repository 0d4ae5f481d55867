// Interop: the devnet's ledger hashes and transaction trees against xrpl.js's own (hashes.hashLedger,
// hashLedgerHeader, hashTxTree) and ripple-binary-codec's decodeLedgerData, for an empty ledger, a
// ledger of one transaction (the SHAMap root is then an inner node above its one leaf), and ledgers
// of several and many transactions; in the JSON form (API v1) and the binary form (API v2).
// Usage: node ledger-hash.test.js <path-to-sashimono>
'use strict';
const xrpl = require(process.env.XRPL_PKG || 'xrpl');
const codec = require('ripple-binary-codec');
const { startDevnet, check } = require('./lib/devnet');

const binary = process.argv[2];
if (!binary) { console.error('usage: node ledger-hash.test.js <sashimono binary>'); process.exit(2); }

const ZERO = '0'.repeat(64);

// Closes the open ledger and returns the index of the ledger it closed.
async function accept(client) {
  const r = await client.request({ command: 'ledger_accept' });
  return r.result.ledger_current_index - 1;
}

async function submit(client, wallet, tx) {
  const r = await client.request({ command: 'submit', tx_blob: wallet.sign(tx).tx_blob });
  check(r.result.engine_result === 'tesSUCCESS', 'submit: ' + r.result.engine_result);
}

// Checks one closed ledger of `count` transactions both ways; returns its transaction_hash.
async function checkLedger(v1, v2, index, count) {
  const what = `ledger ${index} (${count} txs)`;
  // JSON, API v1: transactions with their fields, hash and metaData, as hashTxTree takes them.
  const j = (await v1.request({ command: 'ledger', ledger_index: index, transactions: true, expand: true })).result;
  const l = j.ledger;
  check(l.closed === true && j.validated === true, what + ': closed and validated');
  check(l.transactions.length === count, what + `: ${l.transactions.length} transactions listed`);
  check(xrpl.hashes.hashLedgerHeader(l) === l.ledger_hash, what + ': hashLedgerHeader = ledger_hash');
  check(xrpl.hashes.hashLedger(l) === j.ledger_hash, what + ': hashLedger = ledger_hash');
  // DeliverMax is an API alias of Amount (rippled shows both in v1), not a serialized field: the
  // codec inside hashTxTree does not know it.
  const txs = l.transactions.map(({ DeliverMax, ...t }) => t);
  const tree = count === 0 ? ZERO : xrpl.hashes.hashTxTree(txs);
  check(tree === l.transaction_hash, what + `: hashTxTree ${tree} = transaction_hash ${l.transaction_hash}`);
  for (const t of txs) check(xrpl.hashes.hashSignedTx(t) === t.hash, what + ': tx hash');

  // Binary, API v2: the header as ledger_data, the transactions as tx_blob + meta_blob.
  const b = (await v2.request({
    command: 'ledger', ledger_index: index, transactions: true, expand: true, binary: true,
  })).result;
  const bl = b.ledger;
  check(typeof bl.ledger_data === 'string' && bl.ledger_data.length === 236, what + ': ledger_data is 118 bytes');
  const header = codec.decodeLedgerData(bl.ledger_data);
  check(Number(header.ledger_index) === index, what + ': ledger_data ledger_index');
  for (const k of ['parent_hash', 'transaction_hash', 'account_hash', 'close_time', 'parent_close_time',
    'close_time_resolution', 'close_flags']) {
    check(String(header[k]) === String(l[k]), what + `: ledger_data ${k} ${header[k]} = ${l[k]}`);
  }
  check(String(header.total_coins) === l.total_coins, what + ': ledger_data total_coins');
  check(xrpl.hashes.hashLedgerHeader({ ...header, ledger_index: index }) === b.ledger_hash,
    what + ': binary header hashes to ledger_hash');
  const fromBlobs = bl.transactions.map((t) => ({ ...codec.decode(t.tx_blob), metaData: codec.decode(t.meta_blob) }));
  const binTree = count === 0 ? ZERO : xrpl.hashes.hashTxTree(fromBlobs);
  check(binTree === header.transaction_hash, what + ': hashTxTree of the blobs = transaction_hash');
  // The tree pins the transactions: one dropped or one metadata field changed gives another root.
  if (count > 0) {
    const fewer = fromBlobs.slice(1);
    check((fewer.length === 0 ? ZERO : xrpl.hashes.hashTxTree(fewer)) !== header.transaction_hash,
      what + ': a dropped transaction changes the root');
    const altered = fromBlobs.map((t, i) => (i === 0 ? { ...t, metaData: { ...t.metaData, TransactionIndex: 9999 } } : t));
    check(xrpl.hashes.hashTxTree(altered) !== header.transaction_hash, what + ': altered metadata changes the root');
  }
  return l.transaction_hash;
}

async function main() {
  // Ledgers close only on ledger_accept, so each holds exactly the transactions sent for it.
  const dn = await startDevnet(binary, { intervalMs: 0 });
  const v1 = new xrpl.Client(dn.url);
  v1.apiVersion = 1;
  const v2 = new xrpl.Client(dn.url);
  v2.apiVersion = 2;
  try {
    await v1.connect();
    await v2.connect();
    const genesis = xrpl.Wallet.fromSeed(dn.seed);
    const a = xrpl.Wallet.generate('ed25519');
    const b = xrpl.Wallet.generate('ed25519');
    const gInfo = await v2.request({ command: 'account_info', account: genesis.address, ledger_index: 'current' });
    let gSeq = gInfo.result.account_data.Sequence;
    const payment = (from, seq, to, drops) => ({
      TransactionType: 'Payment', Account: from.address, Destination: to, Amount: String(drops),
      Fee: '10', Sequence: seq, Flags: 0,
    });

    const empty = await accept(v2);
    check((await checkLedger(v1, v2, empty, 0)) === ZERO, 'empty ledger: transaction_hash is zero');

    await submit(v2, genesis, payment(genesis, gSeq++, a.address, 1000_000000));
    const one = await accept(v2);
    const oneRoot = await checkLedger(v1, v2, one, 1);
    check(oneRoot !== ZERO, 'one-tx ledger: non-zero root');

    await submit(v2, genesis, payment(genesis, gSeq++, b.address, 500_000000));
    for (let i = 0; i < 4; i++) await submit(v2, genesis, payment(genesis, gSeq++, a.address, 1_000000 + i));
    await checkLedger(v1, v2, await accept(v2), 5);

    // 60 payments from two senders: a tree of several inner levels.
    let aSeq = (await v2.request({ command: 'account_info', account: a.address, ledger_index: 'current' })).result.account_data.Sequence;
    for (let i = 0; i < 30; i++) {
      await submit(v2, genesis, payment(genesis, gSeq++, b.address, 2_000000 + i));
      await submit(v2, a, payment(a, aSeq++, b.address, 3_000000 + i));
    }
    await checkLedger(v1, v2, await accept(v2), 60);

    // The genesis ledger and every ledger of the chain link by parent_hash.
    const last = (await v2.request({ command: 'ledger_closed' })).result.ledger_index;
    let parent = null;
    for (let i = 1; i <= last; i++) {
      const l = (await v1.request({ command: 'ledger', ledger_index: i })).result.ledger;
      check(xrpl.hashes.hashLedger(l) === l.ledger_hash, `ledger ${i}: hashLedger`);
      if (parent) check(l.parent_hash === parent, `ledger ${i}: parent_hash`);
      parent = l.ledger_hash;
    }
    console.log('ledger-hash interop: all checks passed');
  } finally {
    for (const x of [v1, v2]) if (x.isConnected()) await x.disconnect();
    await dn.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
