// Interop: a secp256k1 wallet made by ripple-keypairs, used by the sashimono CLI.
// Usage: node secp-wallet.test.js <path-to-sashimono>
//
// - `sashimono keys show` and `sashimono lease key` derive the same address from the seed (in
//   SASHIMONO_SEED) as ripple-keypairs;
// - the reply key `sashimono lease` derives for a secp256k1 wallet is the one of the client
//   convention in docs/PROTOCOL.md §13.1, recomputed here with node's crypto and ripple-keypairs.
'use strict';
const crypto = require('crypto');
const { execFileSync } = require('child_process');
const keypairs = require('ripple-keypairs');
const addressCodec = require('ripple-address-codec');
const { check } = require('./lib/devnet');

const binary = process.argv[2];
if (!binary) { console.error('usage: node secp-wallet.test.js <sashimono binary>'); process.exit(2); }

function run(args, seed) {
  const env = { ...process.env, SASHIMONO_SEED: seed };
  return execFileSync(binary, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// docs/PROTOCOL.md §13.1: reply entropy = SHA512Half("sashimono.replykey" ‖ seed entropy)[0..16).
function expectedReply(seed) {
  const { bytes } = addressCodec.decodeSeed(seed);
  const half = crypto.createHash('sha512')
    .update(Buffer.concat([Buffer.from('sashimono.replykey', 'ascii'), Buffer.from(bytes)]))
    .digest().subarray(0, 32);
  const replySeed = addressCodec.encodeSeed(half.subarray(0, 16), 'ed25519');
  return { replySeed, replyKey: keypairs.deriveKeypair(replySeed).publicKey };
}

function main() {
  const seeds = [];
  for (let i = 0; i < 5; i++) seeds.push(keypairs.generateSeed({ algorithm: 'ecdsa-secp256k1' }));
  seeds.push('sp5fghtJtpUorTwvof1NpDXAzNwf5'); // the test vector of docs/PROTOCOL.md §13.1

  for (const seed of seeds) {
    check(addressCodec.decodeSeed(seed).type === 'secp256k1', 'generated a secp256k1 seed');
    const pair = keypairs.deriveKeypair(seed);
    const address = keypairs.deriveAddress(pair.publicKey);

    const shown = run(['keys', 'show'], seed);
    check(shown.includes('key_type:   secp256k1'), 'keys show: secp256k1\n' + shown);
    check(shown.includes('public_key: ' + pair.publicKey), 'keys show: public key\n' + shown);
    check(shown.includes('address:    ' + address), 'keys show: address\n' + shown);

    const key = JSON.parse(run(['lease', 'key', '--json', '--export-seed'], seed));
    const want = expectedReply(seed);
    check(key.account === address, `lease key: account ${key.account} = ${address}`);
    check(key.key_type === 'secp256k1', 'lease key: key_type');
    check(key.reply_source === 'derived', 'lease key: reply_source derived');
    check(key.reply_seed === want.replySeed, `lease key: reply seed ${key.reply_seed} = ${want.replySeed}`);
    check(key.reply_key === want.replyKey, `lease key: reply key ${key.reply_key} = ${want.replyKey}`);
  }
  const vector = JSON.parse(run(['lease', 'key', '--json', '--export-seed'], 'sp5fghtJtpUorTwvof1NpDXAzNwf5'));
  check(vector.account === 'rU6K7V3Po4snVhBBaU29sesqs2qTQJWDw1', 'test vector: address');
  check(vector.reply_seed === 'sEdVkKjAHZ2gfyQJzYTXgVwjCMFZPYj', 'test vector: reply seed');
  check(vector.reply_key === 'ED8704DCBB5ED5CBD335B6E36ECCE6127E7FB4F59ECC6E02C417A5C8D94AA2B44E',
    'test vector: reply key');

  // An ed25519 wallet's reply key is its own key, and it has no separate reply seed.
  const ed = keypairs.generateSeed({ algorithm: 'ed25519' });
  const edKey = JSON.parse(run(['lease', 'key', '--json'], ed));
  check(edKey.reply_source === 'account', 'ed25519 wallet: reply_source account');
  check(edKey.reply_key === keypairs.deriveKeypair(ed).publicKey, 'ed25519 wallet: reply key is its key');
  console.log('secp-wallet interop: ok (' + seeds.length + ' secp256k1 seeds)');
}

try {
  main();
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}
