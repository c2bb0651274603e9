// The embeddable widget on a page from another origin (localhost vs the
// super-node's 127.0.0.1): its button places a call a registered tab answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startRing, repoRoot, waitFor } from '../lib/supernode.mjs';
import { launchBrowser, screenshot, watchPageErrors } from '../lib/browser.mjs';
import { openPhone, callState, waitConnected, inboundPackets } from '../lib/phone.mjs';
import { serveStatic } from '../lib/static-server.mjs';

let ring, chrome, site;
before(async () => {
  ring = await startRing(2);
  chrome = await launchBrowser();
  // The example host page, pointed at the test's super-node 1.
  const html = readFileSync(path.join(repoRoot, 'www/examples/host.html'), 'utf8')
    .replaceAll('http://127.0.0.1:8080', ring.nodes[0].url);
  site = await serveStatic({
    '/host.html': { type: 'text/html', body: html },
    '/favicon.ico': { type: 'image/x-icon', body: '' },
  });
});
after(async () => {
  await chrome?.close();
  await site?.close();
  await ring?.stop();
});

test('the host page call button reaches a registered tab', async () => {
  const support = await openPhone(chrome.browser, ring.nodes[1].url, 'support@example.org', { name: 'Support' });
  const host = await chrome.browser.newPage();
  const errors = watchPageErrors(host);
  await host.goto(`${site.url}/host.html`);
  assert.notEqual(new URL(site.url).origin, new URL(ring.nodes[0].url).origin);
  const button = host.locator('p2p-call button');
  await button.click();
  await support.page.waitForSelector('#incoming:not([hidden])', { timeout: 15000 });
  assert.match(await support.page.textContent('#incoming-from'), /anonymous/);
  await support.page.click('#answer');
  await host.waitForSelector('p2p-call[data-state="connected"]', { timeout: 15000 });
  await waitConnected(support.page);
  // The widget sends audio only; the callee hears it.
  await waitFor(async () => (await inboundPackets(support.page)).audio > 10, { what: 'audio from the widget', intervalMs: 200 });
  await screenshot(host, 'widget-host-in-call');
  await button.click(); // now "Hang up"
  await host.waitForSelector('p2p-call[data-state="ended"]', { timeout: 10000 });
  await callState(support.page, 'ended');
  assert.deepEqual(errors, []);
});
