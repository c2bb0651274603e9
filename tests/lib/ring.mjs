// Starts an n-super-node ring on loopback for end-to-end tests: every node
// on OS-chosen HTTP, ring and SIP ports, joined through the first, and
// waits until the ring converged (each node's first successor and its
// predecessor are its neighbours by id).
import { startSupernode } from './supernode.mjs';

const deadlineError = (what, ms, node) =>
  new Error(`timed out after ${ms} ms waiting for ${what}:\n${node ? node.logs.join('') : ''}`);

/** Waits until the node's log text matches `re`; resolves the match. */
export function waitForLog(node, re, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const check = () => re.exec(node.logs.join(''));
    const m = check();
    if (m) return resolve(m);
    const onData = () => {
      const hit = check();
      if (hit) { done(); resolve(hit); }
    };
    const onExit = (code, signal) => { done(); reject(new Error(`supernode exited (${code ?? signal}):\n${node.logs.join('')}`)); };
    const timer = setTimeout(() => { done(); reject(deadlineError(String(re), timeoutMs, node)); }, timeoutMs);
    function done() {
      clearTimeout(timer);
      node.proc.stdout.off('data', onData);
      node.proc.stderr.off('data', onData);
      node.proc.off('exit', onExit);
    }
    // Registered after startSupernode's own listener, which appends to logs first.
    node.proc.stdout.on('data', onData);
    node.proc.stderr.on('data', onData);
    node.proc.once('exit', onExit);
  });
}

/**
 * Starts one super-node (joining `join` if given) and resolves with
 * { url, http, ring, id, sip, proc, logs, stop() }: `http` and `sip` are
 * `127.0.0.1:port`, `ring` the advertised `ws://` ring address.
 */
export async function startRingNode({ join, args = [] } = {}) {
  const full = ['--ring-listen', '127.0.0.1:0', '--sip-listen', '127.0.0.1:0', ...args];
  if (join) full.push('--join', join);
  const node = await startSupernode(full);
  try {
    const [, ring, id] = await waitForLog(node, /ring member (ws:\/\/\S+) id ([0-9a-f]{40})/);
    const [, sip] = await waitForLog(node, /SIP over UDP and TCP at (\S+)/);
    return Object.assign(node, { http: node.url.replace(/^http:\/\//, ''), ring, id, sip });
  } catch (e) {
    await node.stop('SIGKILL');
    throw e;
  }
}

/** `GET /api/ring` of a node as JSON. */
export async function ringStatus(node) {
  const res = await fetch(`${node.url}/api/ring`);
  if (!res.ok) throw new Error(`GET /api/ring: ${res.status}`);
  return res.json();
}

/** Whether every node's first successor and predecessor are its id neighbours. */
export async function converged(nodes) {
  const ids = nodes.map((n) => n.id).sort();
  for (const n of nodes) {
    const s = await ringStatus(n);
    const i = ids.indexOf(n.id);
    const next = ids[(i + 1) % ids.length];
    const prev = ids[(i + ids.length - 1) % ids.length];
    if (s.successors?.[0]?.id !== next || s.predecessor?.id !== prev) return false;
  }
  return true;
}

/** Polls `check` every 100 ms until it is truthy, or throws after `timeoutMs`. */
export async function eventually(what, check, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `n` super-nodes joined into one ring and waits until it converged.
 * Resolves with the nodes; `stopRing(nodes)` stops them all.
 */
export async function startRing(n, args = []) {
  const nodes = [];
  try {
    nodes.push(await startRingNode({ args }));
    for (let i = 1; i < n; i++) nodes.push(await startRingNode({ join: nodes[0].ring, args }));
    await eventually('the ring to converge', () => converged(nodes));
    return nodes;
  } catch (e) {
    await stopRing(nodes);
    throw e;
  }
}

/** Stops every node (SIGKILL: tests need no graceful hand-off). */
export async function stopRing(nodes = []) {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
}
