// The call page loads from a running super-node, the WASM peer starts and
// its WebSocket to /sip opens with the `sip` subprotocol.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSupernode } from '../lib/supernode.mjs';
import { launchBrowser, screenshot, watchPageErrors } from '../lib/browser.mjs';

let node, chrome;
before(async () => {
  node = await startSupernode();
  chrome = await launchBrowser();
});
after(async () => {
  await chrome?.close();
  await node?.stop();
});

test('page starts the WASM peer and opens its SIP WebSocket', async () => {
  const page = await chrome.browser.newPage();
  const errors = watchPageErrors(page);
  await page.goto(`${node.url}/`);
  await page.waitForSelector('#wasm-state[data-state="started"]', { timeout: 10000 });
  await page.waitForSelector('#conn-state[data-state="connected"]', { timeout: 10000 });
  assert.match(await page.textContent('#conn-state'), /connected to 127\.0\.0\.1:\d+/);
  // The browser's own view of the socket, not only our UI text.
  const protocol = await page.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${location.host}/sip`, 'sip');
    ws.onopen = () => { resolve(ws.protocol); ws.close(); };
    ws.onerror = () => reject(new Error('second WebSocket failed'));
  }));
  assert.equal(protocol, 'sip');
  // The server log shows the connection the page opened.
  assert.match(node.logs.join(''), /SIP WebSocket opened/);
  await screenshot(page, 'page-start');
  assert.deepEqual(errors, []);
});

test('a WebSocket without the sip subprotocol is refused', async () => {
  const page = await chrome.browser.newPage();
  await page.goto(`${node.url}/`);
  const outcome = await page.evaluate(() => new Promise((resolve) => {
    const ws = new WebSocket(`ws://${location.host}/sip`);
    ws.onopen = () => resolve('open');
    ws.onerror = () => resolve('refused');
  }));
  assert.equal(outcome, 'refused');
});
