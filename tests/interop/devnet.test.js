// Interop: the official xrpl.js (v4) against `sashimono devnet`.
// Usage: node devnet.test.js <path-to-sashimono>
'use strict';
// XRPL_PKG selects the xrpl.js major version under test (xrpl = v4, xrpl3, xrpl5: npm aliases).
const xrpl = require(process.env.XRPL_PKG || 'xrpl');
const codec = require('ripple-binary-codec');
const fs = require('fs');
const { startDevnet, check } = require('./lib/devnet');

const binary = process.argv[2];
if (!binary) { console.error('usage: node devnet.test.js <sashimono binary>'); process.exit(2); }

async function pay(client, from, to, drops, extra = {}) {
  const tx = await client.autofill({ TransactionType: 'Payment', Account: from.address, Destination: to, Amount: String(drops), ...extra });
  return client.submitAndWait(from.sign(tx).tx_blob);
}

async function main() {
  const dn = await startDevnet(binary, { intervalMs: 100 });
  const client = new xrpl.Client(dn.url);
  const v1 = new xrpl.Client(dn.url);
  v1.apiVersion = 1;
  // xrpl.js 3 defaults to API v1, 4 and 5 to v2: pin the v2 clients so every version checks both shapes.
  client.apiVersion = 2;
  const listener = new xrpl.Client(dn.url);
  listener.apiVersion = 2;
  try {
    await client.connect();
    await v1.connect();
    await listener.connect();
    const genesis = xrpl.Wallet.fromSeed(dn.seed);
    check(genesis.address === dn.address, 'genesis address from seed');
    check(Number(await client.getXrpBalance(genesis.address)) === 100000000000, 'genesis holds 100,000,000,000 XRP');

    // Fund two wallets with autofill + submitAndWait.
    const a = xrpl.Wallet.generate('ed25519');
    const b = xrpl.Wallet.generate('ed25519');
    const r1 = await pay(client, genesis, a.address, 1000_000000);
    check(r1.result.validated === true, 'funding validated');
    check(r1.result.meta.TransactionResult === 'tesSUCCESS', 'funding tesSUCCESS');
    check(r1.result.meta.delivered_amount === '1000000000', 'delivered_amount');
    check(r1.result.tx_json.DeliverMax === '1000000000', 'v2 tx_json has DeliverMax');
    check(r1.result.meta.AffectedNodes.some((n) => n.CreatedNode && n.CreatedNode.LedgerEntryType === 'AccountRoot'), 'CreatedNode AccountRoot');
    await pay(client, genesis, b.address, 50_000000);
    const balances = await client.getBalances(a.address);
    check(balances.length === 1 && balances[0].currency === 'XRP' && balances[0].value === '1000', 'getBalances: ' + JSON.stringify(balances));

    // Account subscription (API v1 client) on b, and a transactions-stream subscriber (v2).
    const streamed = [];
    const streamedV1 = [];
    listener.on('transaction', (t) => streamed.push(t));
    v1.on('transaction', (t) => streamedV1.push(t));
    await listener.request({ command: 'subscribe', accounts: [b.address] });
    await v1.request({ command: 'subscribe', accounts: [b.address], streams: ['ledger'] });

    // 120 payments a → b, pre-signed with consecutive sequences, then validated.
    const base = await client.autofill({ TransactionType: 'Payment', Account: a.address, Destination: b.address, Amount: '1000' });
    base.LastLedgerSequence += 200;
    const hashes = [];
    const submits = [];
    for (let i = 0; i < 120; i++) {
      const signed = a.sign({ ...base, Sequence: base.Sequence + i, Amount: String(1000 + i) });
      hashes.push(signed.hash);
      submits.push(client.request({ command: 'submit', tx_blob: signed.tx_blob }));
    }
    for (const s of await Promise.all(submits)) check(s.result.engine_result === 'tesSUCCESS', 'batch submit: ' + s.result.engine_result);
    await client.request({ command: 'ledger_accept' });
    const last = await client.request({ command: 'tx', transaction: hashes[119] });
    check(last.result.validated === true, 'last batch tx validated');

    // account_tx paging with marker, newest first and forward.
    const seen = [];
    let marker;
    let pages = 0;
    do {
      const page = await client.request({ command: 'account_tx', account: b.address, limit: 25, marker });
      for (const t of page.result.transactions) { check(t.validated === true && t.tx_json && t.meta && t.hash, 'v2 account_tx entry shape'); seen.push(t.hash); }
      marker = page.result.marker;
      pages++;
    } while (marker);
    check(seen.length === 121, 'account_tx paged 121 transactions, got ' + seen.length);
    check(pages === 5, 'pages: ' + pages);
    check(new Set(seen).size === 121, 'no duplicates across pages');
    check(seen[0] === hashes[119], 'newest first');
    const fwd = await client.request({ command: 'account_tx', account: b.address, forward: true, limit: 2 });
    check(fwd.result.transactions[1].hash === hashes[0], 'forward order');
    const all = await client.requestAll({ command: 'account_tx', account: b.address });
    check(all.reduce((n, r) => n + r.result.transactions.length, 0) === 121, 'requestAll with marker');

    // Streams carried every validated transaction for b.
    const deadline = Date.now() + 5000;
    while ((streamed.length < 120 || streamedV1.length < 120) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    check(streamed.length === 120, 'account stream (v2) got ' + streamed.length);
    check(streamedV1.length === 120, 'account stream (v1) got ' + streamedV1.length);
    check(streamed.every((t) => t.validated === true && t.engine_result === 'tesSUCCESS' && t.tx_json && t.hash && t.meta && t.ledger_index), 'v2 stream shape');
    check(streamedV1.every((t) => t.validated === true && t.transaction && t.transaction.hash && t.meta), 'v1 stream shape');
    check(streamed.map((t) => t.hash).join() === hashes.join(), 'stream order');

    // tx binary: decoded by ripple-binary-codec, signature verified by xrpl.js.
    const bin = await client.request({ command: 'tx', transaction: hashes[7], binary: true });
    check(typeof bin.result.tx_blob === 'string' && typeof bin.result.meta_blob === 'string', 'v2 binary fields');
    const decoded = codec.decode(bin.result.tx_blob);
    check(decoded.Account === a.address && decoded.Amount === '1007', 'decoded tx');
    check(xrpl.verifySignature(bin.result.tx_blob), 'xrpl.js verifySignature');
    check(xrpl.hashes.hashSignedTx(bin.result.tx_blob) === hashes[7], 'hash of binary tx');
    const meta = codec.decode(bin.result.meta_blob);
    check(meta.TransactionResult === 'tesSUCCESS' && typeof meta.TransactionIndex === 'number' && meta.DeliveredAmount === '1007', 'decoded meta ' + JSON.stringify(meta).slice(0, 200));
    const binTxs = await client.request({ command: 'account_tx', account: b.address, binary: true, limit: 3 });
    for (const t of binTxs.result.transactions) check(xrpl.verifySignature(t.tx_blob) && codec.decode(t.meta).TransactionResult, 'account_tx binary');

    // Engine results.
    const c = xrpl.Wallet.generate('ed25519');
    const sub = async (wallet, tx) => (await client.submit(await client.autofill(tx), { wallet })).result;
    let r = await sub(a, { TransactionType: 'Payment', Account: a.address, Destination: c.address, Amount: '500000' });
    check(r.engine_result === 'tecNO_DST_INSUF_XRP', 'below reserve: ' + r.engine_result);
    r = await sub(b, { TransactionType: 'Payment', Account: b.address, Destination: a.address, Amount: '49500000' });
    check(r.engine_result === 'tecUNFUNDED_PAYMENT', 'unfunded: ' + r.engine_result);
    r = await sub(a, { TransactionType: 'AccountSet', Account: a.address });
    check(r.engine_result === 'tesSUCCESS', 'AccountSet: ' + r.engine_result);
    const old = a.sign({ ...base, Sequence: base.Sequence });
    r = (await client.request({ command: 'submit', tx_blob: old.tx_blob })).result;
    check(r.engine_result === 'tefPAST_SEQ' || r.engine_result === 'tefALREADY', 'resubmit: ' + r.engine_result);
    const ahead = a.sign({ ...base, Sequence: base.Sequence + 1000 });
    r = (await client.request({ command: 'submit', tx_blob: ahead.tx_blob })).result;
    check(r.engine_result === 'terPRE_SEQ', 'future sequence: ' + r.engine_result);
    const stale = a.sign({ ...base, Sequence: (await client.request({ command: 'account_info', account: a.address, ledger_index: 'current' })).result.account_data.Sequence, LastLedgerSequence: 2 });
    r = (await client.request({ command: 'submit', tx_blob: stale.tx_blob })).result;
    check(r.engine_result === 'tefMAX_LEDGER', 'LastLedgerSequence passed: ' + r.engine_result);
    // A key that is not the account's, and a broken signature.
    const forged = b.sign({ ...base, Sequence: base.Sequence + 500 });
    r = (await client.request({ command: 'submit', tx_blob: forged.tx_blob })).result;
    check(r.engine_result === 'tefBAD_AUTH', 'foreign key: ' + r.engine_result);
    const good = a.sign({ ...base, Sequence: base.Sequence + 500 });
    const tampered = codec.decode(good.tx_blob);
    tampered.TxnSignature = tampered.TxnSignature.slice(0, 10) + (tampered.TxnSignature[10] === 'A' ? 'B' : 'A') + tampered.TxnSignature.slice(11);
    let err = await client.request({ command: 'submit', tx_blob: codec.encode(tampered) }).catch((e) => e);
    check(err.data && err.data.error === 'invalidTransaction', 'bad signature: ' + JSON.stringify(err.data));
    err = await client.request({ command: 'submit', tx_blob: 'DEADBEEF' }).catch((e) => e);
    check(err.data && err.data.error === 'invalidTransaction', 'bad blob');
    err = await client.request({ command: 'account_info', account: c.address }).catch((e) => e);
    check(err.data && err.data.error === 'actNotFound' && err.data.error_code === 19, 'actNotFound');
    err = await client.request({ command: 'tx', transaction: '00'.repeat(32) }).catch((e) => e);
    check(err.data && err.data.error === 'txnNotFound', 'txnNotFound');
    err = await client.request({ command: 'no_such_command' }).catch((e) => e);
    check(err.data && err.data.error === 'unknownCmd', 'unknownCmd');

    // API v1 request shapes.
    const rv1 = await pay(v1, genesis, c.address, 20_000000);
    check(rv1.result.validated === true && rv1.result.meta.TransactionResult === 'tesSUCCESS', 'v1 submitAndWait');
    check(rv1.result.Account === genesis.address && rv1.result.Amount === '20000000' && rv1.result.hash, 'v1 flattened tx');
    const txv1 = await v1.request({ command: 'tx', transaction: hashes[0], binary: true });
    check(typeof txv1.result.tx === 'string' && xrpl.verifySignature(txv1.result.tx), 'v1 binary tx');
    const atv1 = await v1.request({ command: 'account_tx', account: b.address, limit: 5 });
    check(atv1.result.transactions.every((t) => t.tx && t.tx.hash && t.meta && t.validated), 'v1 account_tx shape');
    const lv1 = await v1.request({ command: 'ledger', ledger_index: 'validated', transactions: true, expand: true });
    check(typeof lv1.result.ledger.ledger_index === 'string', 'v1 ledger_index is a string');
    const lv2 = await client.request({ command: 'ledger', ledger_index: 'validated' });
    check(typeof lv2.result.ledger.ledger_index === 'number', 'v2 ledger_index is a number');
    const info = await v1.request({ command: 'server_state' });
    check(info.result.state.validated_ledger.reserve_base === 1000000 && info.result.state.validated_ledger.reserve_inc === 200000, 'reserves');

    // Restart: everything validated is still there.
    await client.disconnect(); await v1.disconnect(); await listener.disconnect();
    const before = (await (async () => { const c2 = new xrpl.Client(dn.url); await c2.connect(); const r = await c2.request({ command: 'ledger_closed' }); await c2.disconnect(); return r.result.ledger_index; })());
    await dn.stop();
    const dn2 = await startDevnet(binary, { intervalMs: 100, dataDir: dn.dataDir });
    try {
      check(dn2.seed === dn.seed, 'same genesis after restart');
      const c3 = new xrpl.Client(dn2.url);
      await c3.connect();
      const lc = await c3.request({ command: 'ledger_closed' });
      check(lc.result.ledger_index >= before, 'ledger continues');
      check(Number(await c3.getXrpBalance(c.address)) === 20, 'balance kept');
      const t = await c3.request({ command: 'tx', transaction: hashes[119] });
      check(t.result.validated, 'tx kept');
      await pay(c3, genesis, c.address, 1_000000);
      await c3.disconnect();
    } finally {
      await dn2.stop();
    }
    fs.rmSync(dn.dataDir, { recursive: true, force: true });
    console.log('devnet interop: all checks passed');
  } finally {
    for (const x of [client, v1, listener]) if (x.isConnected()) await x.disconnect();
    if (dn.proc.exitCode === null) await dn.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
