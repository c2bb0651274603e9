// Failover: the super-node tab B is attached to dies; B reconnects to the
// other one (learnt from /api/hosts), registers again, and A reaches it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRing, waitFor } from '../lib/supernode.mjs';
import { launchBrowser, screenshot } from '../lib/browser.mjs';
import { openPhone, dial, callState, waitConnected, assertMediaFlows } from '../lib/phone.mjs';

let ring, chrome;
before(async () => {
  ring = await startRing(2);
  chrome = await launchBrowser();
});
after(async () => {
  await chrome?.close();
  await ring?.stop();
});

test('B fails over to the other super-node and is called again', async () => {
  const [n1, n2] = ring.nodes;
  const a = await openPhone(chrome.browser, n1.url, 'alice@example.org');
  const b = await openPhone(chrome.browser, n2.url, 'bob@example.org');
  // B learnt the other super-node from /api/hosts and keeps it in localStorage.
  await waitFor(() => b.page.evaluate((other) => window.p2p.peer.hosts().includes(other), n1.url), { what: 'B knowing super-node 1' });
  const saved = await b.page.evaluate(() => JSON.parse(localStorage.getItem('p2psip.hosts') ?? '[]'));
  assert.ok(saved.includes(n1.url), `saved hosts ${saved}`);

  await n2.stop('SIGKILL');
  // B notices, reconnects to super-node 1 and registers again.
  await b.page.waitForFunction((host) => {
    const el = document.getElementById('conn-state');
    return el.dataset.state === 'connected' && el.dataset.host === host;
  }, new URL(n1.url).host, { timeout: 15000 });
  await b.page.waitForSelector('#reg-state[data-state="registered"]', { timeout: 15000 });
  assert.equal(await b.page.evaluate(() => window.p2p.peer.currentHost()), n1.url);
  await screenshot(b.page, 'failover-b-reconnected');

  await dial(a.page, 'bob@example.org');
  await b.page.waitForSelector('#incoming:not([hidden])', { timeout: 15000 });
  await b.page.click('#answer');
  await Promise.all([waitConnected(a.page), waitConnected(b.page)]);
  await assertMediaFlows(b.page);
  await a.page.click('#hangup');
  await Promise.all([callState(a.page, 'ended'), callState(b.page, 'ended')]);
});
