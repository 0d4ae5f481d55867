// Interop: xrpl.js against `sashimono devnet --network-id`, and the devnet as a busy network
// (fee_set): what xrpl.js autofills (NetworkID, Fee) and what the devnet refuses.
// Usage: node devnet-network-id.test.js <path-to-sashimono>
'use strict';
const xrpl = require('xrpl');
const { startDevnet, check } = require('./lib/devnet');

const binary = process.argv[2];
if (!binary) { console.error('usage: node devnet-network-id.test.js <sashimono binary>'); process.exit(2); }

async function submitRaw(client, wallet, tx) {
  const r = await client.request({ command: 'submit', tx_blob: wallet.sign(tx).tx_blob });
  return r.result;
}

// Xahau's network id: above 1024, so transactions must carry it.
async function networkAbove1024() {
  const dn = await startDevnet(binary, { intervalMs: 100, args: ['--network-id', '21337'] });
  const client = new xrpl.Client(dn.url);
  try {
    check(dn.networkId === 21337, 'the devnet prints its network id');
    await client.connect();
    const info = (await client.request({ command: 'server_info' })).result.info;
    check(info.network_id === 21337, 'server_info network_id: ' + info.network_id);
    check(client.networkID === 21337, 'xrpl.js read the network id');
    const genesis = xrpl.Wallet.fromSeed(dn.seed);
    const a = xrpl.Wallet.generate('ed25519');

    const tx = await client.autofill({ TransactionType: 'Payment', Account: genesis.address, Destination: a.address, Amount: '50000000' });
    check(tx.NetworkID === 21337, 'autofill set NetworkID: ' + tx.NetworkID);
    const r = await client.submitAndWait(genesis.sign(tx).tx_blob);
    check(r.result.validated === true && r.result.meta.TransactionResult === 'tesSUCCESS', 'payment with NetworkID validated');
    check(r.result.tx_json.NetworkID === 21337, 'NetworkID in the validated tx');
    check(/^C[0-9A-F]{11}5359$/.test(r.result.ctid), 'ctid carries network 21337 (0x5359): ' + r.result.ctid);

    const next = await client.autofill({ TransactionType: 'Payment', Account: genesis.address, Destination: a.address, Amount: '1000000' });
    const missing = { ...next };
    delete missing.NetworkID;
    let res = await submitRaw(client, genesis, missing);
    check(res.engine_result === 'telREQUIRES_NETWORK_ID' && res.engine_result_code === -385, 'no NetworkID: ' + res.engine_result);
    check(res.applied === false, 'not applied');
    res = await submitRaw(client, genesis, { ...next, NetworkID: 21338 });
    check(res.engine_result === 'telWRONG_NETWORK', 'wrong NetworkID: ' + res.engine_result);
    res = await submitRaw(client, genesis, next);
    check(res.engine_result === 'tesSUCCESS', 'the same tx with its NetworkID: ' + res.engine_result);
  } finally {
    if (client.isConnected()) await client.disconnect();
    await dn.stop();
  }
  // Stored with the chain: another network id is refused clearly.
  const again = await startDevnet(binary, { dataDir: dn.dataDir, args: ['--network-id', '1'] }).then(
    (d) => { d.stop(); return null; }, (e) => e);
  check(again && /network id 21337, not 1/.test(again.message), 'reopened with another id: ' + (again && again.message));
}

// The default devnet (network id 0): no NetworkID autofilled, and one given is refused. Then
// fee_set makes it busy: xrpl.js autofills a fee above the open ledger fee; less is refused.
async function defaultNetworkAndFees() {
  const dn = await startDevnet(binary, { intervalMs: 100 });
  const client = new xrpl.Client(dn.url);
  try {
    await client.connect();
    const genesis = xrpl.Wallet.fromSeed(dn.seed);
    const a = xrpl.Wallet.generate('ed25519');
    const tx = await client.autofill({ TransactionType: 'Payment', Account: genesis.address, Destination: a.address, Amount: '50000000' });
    check(tx.NetworkID === undefined, 'no NetworkID autofilled on network 0');
    const res = await submitRaw(client, genesis, { ...tx, NetworkID: 0 });
    check(res.engine_result === 'telNETWORK_ID_MAKES_TX_NON_CANONICAL', 'NetworkID on network 0: ' + res.engine_result);
    const ok = await client.submitAndWait(genesis.sign(tx).tx_blob);
    check(ok.result.meta.TransactionResult === 'tesSUCCESS', 'payment without NetworkID validated');

    // Busy: the open ledger asks 5000 drops.
    const set = await client.request({ command: 'fee_set', open_ledger_fee: 5000 });
    check(set.result.open_ledger_fee === '5000', 'fee_set');
    const fee = (await client.request({ command: 'fee' })).result;
    check(fee.drops.open_ledger_fee === '5000' && fee.drops.minimum_fee === '5000', 'fee: ' + JSON.stringify(fee.drops));
    check(fee.current_queue_size === fee.max_queue_size, 'the queue is full');
    const busy = await client.autofill({ TransactionType: 'Payment', Account: a.address, Destination: genesis.address, Amount: '1000000' });
    check(Number(busy.Fee) >= 5000, 'autofill pays the open ledger fee: ' + busy.Fee);
    const cheap = await submitRaw(client, a, { ...busy, Fee: '10' });
    check(cheap.engine_result === 'telINSUF_FEE_P' && cheap.applied === false && cheap.queued === false, 'cheap tx refused: ' + cheap.engine_result);
    const paid = await client.submitAndWait(a.sign(busy).tx_blob);
    check(paid.result.meta.TransactionResult === 'tesSUCCESS', 'tx paying the open ledger fee validated');

    // Reserves and balances, as a wallet checks them.
    const si = (await client.request({ command: 'server_info' })).result.info.validated_ledger;
    check(si.reserve_base_xrp === 1 && si.reserve_inc_xrp === 0.2, 'server_info reserves');
    const ss = (await client.request({ command: 'server_state' })).result.state.validated_ledger;
    check(ss.reserve_base === 1000000 && ss.reserve_inc === 200000, 'server_state reserves');
    const ai = await client.request({ command: 'account_info', account: a.address, ledger_index: 'validated' });
    check(ai.result.account_data.Balance === String(50000000 - 1000000 - Number(busy.Fee)), 'balance after the busy payment');

    await client.request({ command: 'fee_set', open_ledger_fee: 10 });
    const calm = (await client.request({ command: 'fee' })).result;
    check(calm.drops.open_ledger_fee === '10' && calm.current_queue_size === '0', 'fee_set 10 ends the busy state');
  } finally {
    if (client.isConnected()) await client.disconnect();
    await dn.stop();
  }
}

async function main() {
  await networkAbove1024();
  await defaultNetworkAndFees();
  console.log('devnet network id interop: all checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
