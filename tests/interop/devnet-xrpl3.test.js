// Interop: xrpl.js v3 (npm alias xrpl3) against `sashimono devnet`. xrpl.js 3 sends no
// api_version, so the server answers in API v1 shapes (as rippled does by default).
// Usage: node devnet-xrpl3.test.js <path-to-sashimono>
'use strict';
const xrpl = require('xrpl3');
const { startDevnet, check } = require('./lib/devnet');

const binary = process.argv[2];
if (!binary) { console.error('usage: node devnet-xrpl3.test.js <sashimono binary>'); process.exit(2); }

async function main() {
  const dn = await startDevnet(binary, { intervalMs: 100 });
  const client = new xrpl.Client(dn.url);
  const listener = new xrpl.Client(dn.url);
  try {
    await client.connect();
    await listener.connect();
    const genesis = xrpl.Wallet.fromSeed(dn.seed);
    check(genesis.address === dn.address, 'genesis address from seed');
    check(Number(await client.getXrpBalance(genesis.address)) === 100000000000, 'genesis balance');

    const a = xrpl.Wallet.generate('ed25519');
    const b = xrpl.Wallet.generate();  // xrpl.js 3's default algorithm
    const fund = async (w, drops) => client.submitAndWait(
      genesis.sign(await client.autofill({ TransactionType: 'Payment', Account: genesis.address, Destination: w.address, Amount: String(drops) })).tx_blob);
    const r1 = await fund(a, 1000_000000);
    check(r1.result.validated === true && r1.result.meta.TransactionResult === 'tesSUCCESS', 'v1 submitAndWait validated');
    check(r1.result.Account === genesis.address && r1.result.hash, 'v1 flattened tx fields');
    await fund(b, 50_000000);
    check(Number(await client.getXrpBalance(a.address)) === 1000, 'balance after funding');

    const streamed = [];
    listener.on('transaction', (t) => streamed.push(t));
    await listener.request({ command: 'subscribe', accounts: [b.address] });

    const hashes = [];
    for (let i = 0; i < 30; i++) {
      const tx = await client.autofill({ TransactionType: 'Payment', Account: a.address, Destination: b.address, Amount: String(1000 + i) });
      const signed = a.sign(tx);
      hashes.push(signed.hash);
      const res = await client.submit(signed.tx_blob);
      check(res.result.engine_result === 'tesSUCCESS', 'submit: ' + res.result.engine_result);
      if (i % 10 === 9) await client.request({ command: 'ledger_accept' });
    }
    await client.request({ command: 'ledger_accept' });
    const deadline = Date.now() + 5000;
    while (streamed.length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    check(streamed.length === 30, 'account stream got ' + streamed.length);
    check(streamed.every((t) => t.validated === true && t.transaction && t.meta), 'v1 stream shape');

    const seen = [];
    let marker;
    do {
      const page = await client.request({ command: 'account_tx', account: b.address, limit: 7, marker });
      for (const t of page.result.transactions) seen.push(t.tx.hash);
      marker = page.result.marker;
    } while (marker);
    check(seen.length === 31 && new Set(seen).size === 31, 'account_tx paging: ' + seen.length);

    const bin = await client.request({ command: 'tx', transaction: hashes[3], binary: true });
    check(xrpl.verifySignature(bin.result.tx), 'xrpl.js 3 verifySignature of binary tx');
    console.log('devnet interop (xrpl.js 3): all checks passed');
  } finally {
    await client.disconnect().catch(() => {});
    await listener.disconnect().catch(() => {});
    await dn.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
