// Starts `sashimono devnet` on a free loopback port with a temporary data directory and
// returns { url, seed, address, validatorKey, networkId, dataDir, proc, stop(), kill() }.
// opts: { dataDir, port, intervalMs, seed, args (more command-line arguments) }.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// Data directories this helper made, removed when the test process exits (a test may stop a
// devnet and start another on the same directory, so not at stop()).
const madeDirs = [];
process.on('exit', () => {
  for (const d of madeDirs) fs.rmSync(d, { recursive: true, force: true });
});

function startDevnet(binary, opts = {}) {
  let dataDir = opts.dataDir;
  if (!dataDir) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sashi-devnet-'));
    madeDirs.push(dataDir);
  }
  const args = ['devnet', '--listen', '127.0.0.1:' + (opts.port || 0), '--data', dataDir,
    '--ledger-interval-ms', String(opts.intervalMs ?? 100)];
  if (opts.seed) args.push('--genesis-seed', opts.seed);
  if (opts.args) args.push(...opts.args);
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; if (process.env.DEVNET_LOG) process.stderr.write(d); });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  let started = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('devnet did not start:\n' + out + err)), 15000);
    exited.then(({ code }) => { if (!started) { clearTimeout(timer); reject(new Error(`devnet exited with ${code}:\n${out}${err}`)); } });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (ws:\/\/\S+)/);
      if (!m || started) return;
      started = true;
      clearTimeout(timer);
      const seed = out.match(/genesis seed: (\S+)/)[1];
      const address = out.match(/genesis address: (\S+)/)[1];
      const validatorKey = (out.match(/validator master key: (\S+)/) || [])[1];
      const networkId = Number((out.match(/network id: (\d+)/) || [])[1]);
      resolve({
        url: m[1], seed, address, validatorKey, networkId, dataDir, proc, exited,
        stderr: () => err,
        stop: async () => { proc.kill('SIGTERM'); return exited; },
        kill: async () => { proc.kill('SIGKILL'); return exited; },
      });
    });
  });
}

function check(cond, message) {
  if (!cond) throw new Error('check failed: ' + message);
  if (process.env.DEVNET_TRACE) console.log('ok:', message);
}

module.exports = { startDevnet, check };
