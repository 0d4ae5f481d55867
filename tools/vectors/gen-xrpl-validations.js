#!/usr/bin/env node
// Writes tests/testdata/xrpl-validations.json: validator node keys, manifests and validations
// produced by the official JavaScript libraries (ripple-keypairs, ripple-address-codec,
// ripple-binary-codec), for tests/unit/ledger/ValidationVectorsTest.cpp and
// tests/unit/crypto/NodeKeysTest.cpp.
//
//   node tools/vectors/gen-xrpl-validations.js [out.json]
//
// The packages are those tools/setup.sh installs into tests/interop/node_modules (or any on
// NODE_PATH). Every key comes from a fixed seed and both key types sign deterministically
// (ed25519; secp256k1 with RFC 6979 nonces), so the output is reproducible.
'use strict';
const fs = require('fs');
const path = require('path');

function load(name) {
  const local = path.join(__dirname, '..', '..', 'tests', 'interop', 'node_modules', name);
  try {
    return require(local);
  } catch (e) {
    return require(name);
  }
}
const keypairs = load('ripple-keypairs');
const addressCodec = load('ripple-address-codec');
const codec = load('ripple-binary-codec');

const MAN = '4D414E00'; // "MAN\0"
const VAL = '56414C00'; // "VAL\0"

function seedOf(fill, algorithm) {
  return keypairs.generateSeed({ entropy: new Uint8Array(16).fill(fill), algorithm });
}
function key(name, fill, algorithm) {
  const seed = seedOf(fill, algorithm);
  const kp = keypairs.deriveKeypair(seed);
  return {
    name,
    seed,
    type: algorithm,
    publicKey: kp.publicKey,
    privateKey: kp.privateKey,
    nodePublic: addressCodec.encodeNodePublic(Buffer.from(kp.publicKey, 'hex')),
  };
}

const keys = [
  key('masterEd', 0x11, 'ed25519'),
  key('masterSecp', 0x22, 'ecdsa-secp256k1'),
  key('signingA', 0x33, 'ecdsa-secp256k1'),
  key('signingB', 0x44, 'ecdsa-secp256k1'),
  key('signingC', 0x55, 'ecdsa-secp256k1'),
];
const byName = Object.fromEntries(keys.map((k) => [k.name, k]));

function manifest(name, masterName, signingName, sequence, domain) {
  const master = byName[masterName];
  const signing = signingName ? byName[signingName] : null;
  const fields = { Sequence: sequence, PublicKey: master.publicKey };
  if (signing) fields.SigningPubKey = signing.publicKey;
  if (domain) fields.Domain = Buffer.from(domain, 'ascii').toString('hex').toUpperCase();
  const unsignedHex = codec.encode(fields);
  const message = MAN + unsignedHex;
  const signed = Object.assign({}, fields);
  if (signing) signed.Signature = keypairs.sign(message, signing.privateKey);
  signed.MasterSignature = keypairs.sign(message, master.privateKey);
  return {
    name,
    master: masterName,
    signing: signingName,
    sequence,
    domain: domain || '',
    unsignedHex,
    blob: codec.encode(signed),
  };
}

const manifests = [
  manifest('edMasterSeq1', 'masterEd', 'signingA', 1, 'example.com'),
  manifest('edMasterSeq2', 'masterEd', 'signingB', 2, ''),
  manifest('secpMasterSeq7', 'masterSecp', 'signingC', 7, 'validator.example.org'),
  manifest('edMasterRevoked', 'masterEd', null, 0xffffffff, ''),
];

function validation(name, signingName, f) {
  const signing = byName[signingName];
  const fields = {
    Flags: f.flags,
    LedgerSequence: f.ledgerSequence,
    SigningTime: f.signingTime,
    LedgerHash: f.ledgerHash,
    SigningPubKey: signing.publicKey,
  };
  if (f.networkId !== undefined) fields.NetworkID = f.networkId;
  if (f.cookie !== undefined) fields.Cookie = f.cookie;
  // UInt64 fields are hex in the codec's JSON; ServerVersion is listed in decimal, as rippled prints it.
  if (f.serverVersion !== undefined) fields.ServerVersion = hex64(f.serverVersion);
  if (f.consensusHash !== undefined) fields.ConsensusHash = f.consensusHash;
  if (f.validatedHash !== undefined) fields.ValidatedHash = f.validatedHash;
  const unsignedHex = codec.encode(fields);
  const blob = codec.encode(Object.assign({}, fields, { Signature: keypairs.sign(VAL + unsignedHex, signing.privateKey) }));
  return Object.assign({ name, signing: signingName, unsignedHex, blob }, f);
}

function hex64(decimal) {
  return BigInt(decimal).toString(16).toUpperCase().padStart(16, '0');
}

const H1 = 'EC02890710AAA2B71221B0D560CFB22D64317C07B7406B02959AD84BAD33E602';
const H2 = '4D4CD9CD543F0C1EF023CC457F5BEFEA59EEF73E4552542D40E7C4FA08D3C320';
const validations = [
  validation('minimal', 'signingA', { flags: 0x80000001, ledgerSequence: 6, signingTime: 515115322, ledgerHash: H1 }),
  validation('allOptional', 'signingC', {
    flags: 0x80000001,
    ledgerSequence: 88530525,
    signingTime: 771099232,
    ledgerHash: H2,
    networkId: 21337,
    cookie: '0123456789ABCDEF',
    serverVersion: '1745990410175512576',
    consensusHash: H1,
    validatedHash: H2,
  }),
  validation('partial', 'signingB', { flags: 0x80000000, ledgerSequence: 7, signingTime: 515115325, ledgerHash: H2 }),
];

// A real mainnet manifest, as the xrpl.org `manifest` method page shows it (validator
// nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p, ephemeral key
// n9J67zk4B7GpbQV5jRQntbgdKf7TW6894QuG7qq1rE5gvjCu6snA, sequence 1).
const realBase64 =
  'JAAAAAFxIe3AkJgOyqs3y+UuiAI27Ff3Mrfbt8e7mjdo06bnGEp5XnMhAhRmvCZmWZXlwShVE9qXs2AVCvhVuA/WGYkTX/vVGBGwdkYwRAIgGnYpIGufURojN2cTXakAM7Vwa0GR7o3osdVlZShroXQCIH9R/Lx1v9rdb4YY2n5nrxdnhSSof3U6V/wIHJmeao5ucBJA9D1iAMo7YFCpb245N3Czc0L1R2Xac0YwQ6XdGT+cZ7yw2n8JbdC3hH8Xu9OUqc867Ee6JmlXtyDHzBdY/hdJCQ==';
const realHex = Buffer.from(realBase64, 'base64').toString('hex').toUpperCase();
const realFields = codec.decode(realHex);
const real = {
  source: 'xrpl.org docs, manifest method example response',
  base64: realBase64,
  blob: realHex,
  masterNodePublic: 'nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p',
  signingNodePublic: 'n9J67zk4B7GpbQV5jRQntbgdKf7TW6894QuG7qq1rE5gvjCu6snA',
  masterKey: realFields.PublicKey,
  signingKey: realFields.SigningPubKey,
  sequence: realFields.Sequence,
};
const decodedMaster = Buffer.from(addressCodec.decodeNodePublic(real.masterNodePublic)).toString('hex').toUpperCase();
const decodedSigning = Buffer.from(addressCodec.decodeNodePublic(real.signingNodePublic)).toString('hex').toUpperCase();
if (decodedMaster !== real.masterKey || decodedSigning !== real.signingKey) {
  throw new Error('the documented node keys do not match the keys inside the documented manifest');
}
if (!keypairs.verify(MAN + codec.encode({ Sequence: real.sequence, PublicKey: real.masterKey, SigningPubKey: real.signingKey }),
                     realFields.MasterSignature, real.masterKey)) {
  throw new Error('the documented manifest does not verify');
}

const out = {
  generator: 'tools/vectors/gen-xrpl-validations.js',
  keys: keys.map((k) => ({ name: k.name, seed: k.seed, type: k.type, publicKey: k.publicKey, nodePublic: k.nodePublic })),
  manifests,
  validations,
  realManifest: real,
};
const file = process.argv[2] || path.join(__dirname, '..', '..', 'tests', 'testdata', 'xrpl-validations.json');
fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
console.log('wrote ' + file);
