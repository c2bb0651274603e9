// Starts real super-node processes for end-to-end tests and stops them after.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const defaultBin = path.join(repoRoot, 'target/release/supernode');

/**
 * Spawns `supernode` with `args` (HTTP and ring on OS-chosen loopback ports
 * unless given) and resolves once it logs both the address it serves on and
 * its ring address. Returns { url, ringUrl, proc, logs, stop() }.
 */
export async function startSupernode(args = [], { timeoutMs = 15000, env = {} } = {}) {
  const bin = process.env.SUPERNODE_BIN || defaultBin;
  const fullArgs = ['--www-dir', path.join(repoRoot, 'www'), ...args];
  if (!args.includes('--http-listen')) fullArgs.push('--http-listen', '127.0.0.1:0');
  if (!args.includes('--ring-listen')) fullArgs.push('--ring-listen', '127.0.0.1:0');
  if (!args.includes('--sip-listen')) fullArgs.push('--sip-listen', '127.0.0.1:0');
  const proc = spawn(bin, fullArgs, {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  const { url, ringUrl } = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`supernode did not start in ${timeoutMs} ms:\n${logs.join('')}`)), timeoutMs);
    const onData = (chunk) => {
      const text = chunk.toString();
      logs.push(text);
      const all = logs.join('');
      const http = /serving (http:\/\/[^\s/]+)\//.exec(all);
      const ring = /ring member (ws:\/\/[^\s]+) id/.exec(all);
      if (http && ring) { clearTimeout(timer); resolve({ url: http[1], ringUrl: ring[1] }); }
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
    ringUrl,
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

/**
 * Starts a ring of `count` super-nodes (the first starts it, the others
 * join through it) and waits until every node lists all of them at
 * /api/hosts, so the ring has converged far enough to route.
 * Returns { nodes, stop() }.
 */
export async function startRing(count = 2, { timeoutMs = 20000 } = {}) {
  const nodes = [await startSupernode()];
  try {
    for (let i = 1; i < count; i++) {
      nodes.push(await startSupernode(['--join', nodes[0].ringUrl]));
    }
    await waitFor(async () => {
      const lists = await Promise.all(nodes.map((n) => fetchHosts(n.url)));
      return lists.every((hosts) => nodes.every((n) => hosts.includes(n.url)));
    }, { timeoutMs, what: `${count} super-nodes listing each other at /api/hosts` });
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
  return { nodes, stop: () => Promise.all(nodes.map((n) => n.stop())) };
}

/** The hosts a super-node reports (empty on any error). */
export async function fetchHosts(url) {
  try {
    const res = await fetch(`${url}/api/hosts`);
    return res.ok ? ((await res.json()).hosts ?? []) : [];
  } catch {
    return [];
  }
}

/** Polls `check` until it returns a truthy value (returned) or time runs out. */
export async function waitFor(check, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
