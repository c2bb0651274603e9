// Two browser tabs on a two-super-node ring: tab A registers on super-node
// 1, tab B on super-node 2, and they call and message each other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRing } from '../lib/supernode.mjs';
import { launchBrowser, screenshot } from '../lib/browser.mjs';
import { openPhone, dial, callState, waitConnected, assertMediaFlows, unexpected } from '../lib/phone.mjs';

let ring, chrome, a, b;
before(async () => {
  ring = await startRing(2);
  chrome = await launchBrowser();
  a = await openPhone(chrome.browser, ring.nodes[0].url, 'alice@example.org', { name: 'Alice' });
  b = await openPhone(chrome.browser, ring.nodes[1].url, 'bob@example.org', { name: 'Bob' });
});
after(async () => {
  await chrome?.close();
  await ring?.stop();
});

test('A calls B, B answers, media flows both ways, A hangs up', async () => {
  await dial(a.page, 'bob@example.org');
  await b.page.waitForSelector('#incoming:not([hidden])', { timeout: 15000 });
  assert.match(await b.page.textContent('#incoming'), /Alice <sip:alice@example\.org> is calling \(video\)/);
  await callState(a.page, 'ringing');
  await b.page.click('#answer');
  await Promise.all([callState(a.page, 'connected'), callState(b.page, 'connected')]);
  await Promise.all([waitConnected(a.page), waitConnected(b.page)]);
  const bStats = await assertMediaFlows(b.page);
  const aStats = await assertMediaFlows(a.page);
  assert.ok(bStats.video > 0 && aStats.video > 0);
  // The remote video element is playing real frames.
  await b.page.waitForFunction(() => document.getElementById('remote-video').videoWidth > 0, null, { timeout: 10000 });
  await a.page.waitForFunction(() => /^00:0[1-9]/.test(document.getElementById('call-timer').textContent), null, { timeout: 5000 });
  await screenshot(a.page, 'call-mid-call-a');
  await screenshot(b.page, 'call-mid-call-b');
  // DTMF goes out through the audio sender's RTCDTMFSender.
  const tones = await a.page.evaluate(() => new Promise((resolve) => {
    const { peer, state } = window.p2p;
    const sender = peer.peerConnection(state.call).getSenders().find((s) => s.track?.kind === 'audio');
    const played = [];
    sender.dtmf.addEventListener('tonechange', (e) => { if (e.tone) played.push(e.tone); else resolve(played.join('')); });
    peer.sendDtmf(state.call, '1#');
  }));
  assert.equal(tones, '1#');

  await a.page.click('#hangup');
  await Promise.all([callState(a.page, 'ended'), callState(b.page, 'ended')]);
  for (const side of [a, b]) {
    const idle = await side.page.evaluate(() => ({ call: window.p2p.state.call, hangup: document.getElementById('hangup').disabled }));
    assert.deepEqual(idle, { call: null, hangup: true });
  }
  assert.match(await b.page.textContent('#call-state'), /peer hung up/);
});

test('B declines: A sees declined, then busy', async () => {
  await dial(a.page, 'bob@example.org', { video: false });
  await b.page.waitForSelector('#incoming:not([hidden])', { timeout: 15000 });
  assert.match(await b.page.textContent('#incoming'), /\(audio\)/);
  await b.page.click('#decline');
  await callState(a.page, 'ended');
  assert.equal(await a.page.getAttribute('#call-state', 'data-code'), '603');
  assert.match(await a.page.textContent('#call-state'), /declined/);

  await dial(a.page, 'bob@example.org', { video: false });
  await b.page.waitForSelector('#incoming:not([hidden])', { timeout: 15000 });
  await b.page.click('#busy');
  await callState(a.page, 'ended');
  assert.equal(await a.page.getAttribute('#call-state', 'data-code'), '486');
  await callState(b.page, 'ended');
});

test('A cancels before B answers', async () => {
  await dial(a.page, 'bob@example.org');
  await b.page.waitForSelector('#incoming:not([hidden])', { timeout: 15000 });
  await callState(a.page, 'ringing');
  await a.page.click('#hangup');
  await Promise.all([callState(a.page, 'ended'), callState(b.page, 'ended')]);
  assert.equal(await b.page.getAttribute('#call-state', 'data-code'), '487');
  assert.match(await b.page.textContent('#call-state'), /cancelled/);
  assert.equal(await b.page.isHidden('#incoming'), true);
});

test('MESSAGE both ways', async () => {
  await a.page.fill('#chat-to', 'bob@example.org');
  await a.page.fill('#chat-text', 'hello bob ✓');
  await a.page.click('#send');
  await b.page.waitForSelector('#chat-log li.in:has-text("hello bob ✓")', { timeout: 10000 });
  await a.page.waitForSelector('#chat-log li.out[data-status="delivered"]', { timeout: 10000 });
  // B replies to whoever wrote last (the field is filled in for it).
  assert.equal(await b.page.inputValue('#chat-to'), 'sip:alice@example.org');
  await b.page.fill('#chat-text', 'hi alice');
  await b.page.click('#send');
  await a.page.waitForSelector('#chat-log li.in:has-text("hi alice")', { timeout: 10000 });
  await b.page.waitForSelector('#chat-log li.out[data-status="delivered"]', { timeout: 10000 });
  await screenshot(b.page, 'call-chat-b');
});

test('an unknown address is shown as not found', async () => {
  await dial(a.page, 'nobody@example.org', { video: false });
  await callState(a.page, 'ended');
  assert.equal(await a.page.getAttribute('#call-state', 'data-code'), '404');
  assert.match(await a.page.textContent('#call-state'), /not found: nobody@example\.org/);
  assert.deepEqual(unexpected(a.errors), []);
  assert.deepEqual(unexpected(b.errors), []);
});

test('closing a tab removes its registration', async () => {
  const carol = await openPhone(chrome.browser, ring.nodes[1].url, 'carol@example.org');
  await carol.page.close({ runBeforeUnload: true });
  await dial(a.page, 'carol@example.org', { video: false });
  await callState(a.page, 'ended');
  assert.equal(await a.page.getAttribute('#call-state', 'data-code'), '404');
});
