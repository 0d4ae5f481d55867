// Helpers for interop tests of the instance runtime: a contract directory made from a sample,
// and `sashimono dev` as a child process.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const interopDir = path.resolve(__dirname, '..');
const sourceDir = path.resolve(interopDir, '..', '..');

// Copies contracts-samples/<name> (without node_modules) into dir and adds hotpocket-nodejs-contract
// from tests/interop/node_modules (installed by tools/setup.sh), as a developer's `npm install` would.
function prepareJsSample(name, dir, patch = {}) {
  const src = path.join(sourceDir, 'contracts-samples', name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(src)) {
    if (f === 'node_modules' || f.startsWith('.')) continue;
    const st = fs.statSync(path.join(src, f));
    if (st.isFile()) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  }
  const lib = path.join(interopDir, 'node_modules', 'hotpocket-nodejs-contract');
  const dst = path.join(dir, 'node_modules', 'hotpocket-nodejs-contract');
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ['index.js', 'package.json']) fs.copyFileSync(path.join(lib, f), path.join(dst, f));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'contract.json'), 'utf8'));
  manifest.bin_path = process.execPath;  // node, wherever it is on this machine
  Object.assign(manifest, patch);
  fs.writeFileSync(path.join(dir, 'contract.json'), JSON.stringify(manifest));
  return dir;
}

// Starts `sashimono dev DIR`; resolves with {url, instanceKey, userKeyHex, proc, stop()} once it
// printed its endpoint.
function startDev(binary, dir, workspace, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['dev', dir, '--workspace', workspace, '--port', '0', ...extraArgs],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SASHIMONO_LOG: process.env.SASHIMONO_LOG || 'warn' } });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`sashimono dev did not start:\n${out}\n${err}`)); }, 30000);
    proc.stderr.on('data', (d) => { err += d; if (process.env.VERBOSE) process.stderr.write(d); });
    proc.stdout.on('data', (d) => {
      out += d;
      const url = /user endpoint\s+(\S+)/.exec(out);
      const key = /instance key\s+(ed[0-9a-f]{64})/.exec(out);
      if (url && key && out.includes('Ctrl-C stops')) {
        clearTimeout(timer);
        const userKeyHex = fs.readFileSync(path.join(workspace, 'user.key'), 'utf8').trim();
        resolve({
          url: url[1], instanceKey: key[1], userKeyHex, proc,
          reload: () => proc.stdin.write('\n'),
          output: () => out,
          stop: () => new Promise((r) => { proc.once('exit', (code, sig) => r({ code, sig })); proc.kill('SIGTERM'); }),
        });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`sashimono dev exited with ${code}:\n${out}\n${err}`)); });
  });
}

module.exports = { prepareJsSample, startDev, sourceDir };
