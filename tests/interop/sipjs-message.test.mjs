// SIP.js (npm, a SIP stack we did not write) against the super-nodes over
// SIP over WebSocket (RFC 7118): two user agents register on two different
// super-nodes of a 3-node ring and exchange a MESSAGE both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { UserAgent, Registerer, RegistererState, Messager } from 'sip.js';
import { startRing } from '../lib/supernode.mjs';

// Node 20 has no WebSocket global; SIP.js's transport calls
// `new WebSocket(server, 'sip')` when it connects.
globalThis.WebSocket ??= WebSocket;

const DOMAIN = 'example.org';
const WAIT_MS = 10000;

let ring;
let nodes = [];
const agents = [];

before(async () => {
  ring = await startRing(3);
  nodes = ring.nodes;
});
after(async () => {
  for (const a of agents) await a.ua.stop().catch(() => {});
  await ring?.stop();
});

function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A SIP.js user agent for `user`, on `node`'s /sip WebSocket, registered. */
async function agent(user, node) {
  const inbox = [];
  const waiters = [];
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@${DOMAIN}`),
    transportOptions: { server: `${node.url.replace(/^http/, 'ws')}/sip` },
    logBuiltinEnabled: false,
    logLevel: 'error',
    delegate: {
      onMessage(message) {
        const req = message.request;
        inbox.push({ from: req.from.uri.toString(), body: req.body, contentType: req.getHeader('Content-Type') });
        message.accept();
        for (const w of waiters.splice(0)) w();
      },
    },
  });
  await within(WAIT_MS, `${user}'s WebSocket`, ua.start());
  const registerer = new Registerer(ua, { expires: 300 });
  const registered = new Promise((resolve) => {
    registerer.stateChange.addListener((s) => { if (s === RegistererState.Registered) resolve(); });
  });
  let status;
  await registerer.register({
    requestDelegate: {
      onAccept: (r) => { status = r.message.statusCode; },
      onReject: (r) => { status = r.message.statusCode; },
    },
  });
  await within(WAIT_MS, `${user} to register`, registered);
  assert.equal(status, 200);
  const a = {
    user,
    ua,
    inbox,
    /** Resolves with the first inbox entry matching `pred`. */
    async received(pred) {
      for (;;) {
        const hit = inbox.find(pred);
        if (hit) return hit;
        await within(WAIT_MS, `a MESSAGE for ${user}`, new Promise((r) => waiters.push(r)));
      }
    },
    /** Sends a MESSAGE to `to` (a user); resolves with the final status. */
    send(to, body) {
      const messager = new Messager(ua, UserAgent.makeURI(`sip:${to}@${DOMAIN}`), body, 'text/plain');
      return within(WAIT_MS, `the answer to ${user}'s MESSAGE`, new Promise((resolve, reject) => {
        messager.message({
          requestDelegate: {
            onAccept: (r) => resolve(r.message.statusCode),
            onReject: (r) => resolve(r.message.statusCode),
          },
        }).catch(reject);
      }));
    },
  };
  agents.push(a);
  return a;
}

test('SIP.js agents on two super-nodes exchange MESSAGE both ways', async () => {
  const alice = await agent('alice', nodes[0]);
  const bob = await agent('bob', nodes[2]);

  assert.equal(await alice.send('bob', 'hello bob, from SIP.js on A'), 200);
  const atBob = await bob.received((m) => m.body === 'hello bob, from SIP.js on A');
  assert.equal(atBob.from, `sip:alice@${DOMAIN}`);
  assert.match(atBob.contentType, /^text\/plain/);

  assert.equal(await bob.send('alice', 'hello alice, from SIP.js on C'), 200);
  const atAlice = await alice.received((m) => m.body === 'hello alice, from SIP.js on C');
  assert.equal(atAlice.from, `sip:bob@${DOMAIN}`);

  // Each got exactly its one message: no duplicates over the ring.
  assert.equal(bob.inbox.length, 1);
  assert.equal(alice.inbox.length, 1);
});
