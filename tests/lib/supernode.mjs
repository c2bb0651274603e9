// Starts real super-node processes for end-to-end tests and stops them after.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const defaultBin = path.join(repoRoot, 'target/release/supernode');

/**
 * Spawns `supernode` with `args` (HTTP on an OS-chosen loopback port unless
 * given) and resolves once it logs the address it serves on.
 * Returns { url, proc, logs, stop() }.
 */
export async function startSupernode(args = [], { timeoutMs = 15000, env = {} } = {}) {
  const bin = process.env.SUPERNODE_BIN || defaultBin;
  const fullArgs = ['--www-dir', path.join(repoRoot, 'www'), ...args];
  if (!args.includes('--http-listen')) fullArgs.push('--http-listen', '127.0.0.1:0');
  const proc = spawn(bin, fullArgs, {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`supernode did not start in ${timeoutMs} ms:\n${logs.join('')}`)), timeoutMs);
    const onData = (chunk) => {
      const text = chunk.toString();
      logs.push(text);
      const m = /serving (http:\/\/[^\s/]+)\//.exec(logs.join(''));
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`supernode exited (${code ?? signal}) before serving:\n${logs.join('')}`));
    });
  });
  return {
    url,
    proc,
    logs,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    },
  };
}
