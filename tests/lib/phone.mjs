// Drives the call page (www/index.html) in a browser tab: register, dial,
// answer, and read the page's RTCPeerConnection stats.
import assert from 'node:assert/strict';
import { watchPageErrors } from './browser.mjs';
import { waitFor } from './supernode.mjs';

/**
 * Opens the call page of the super-node at `url` in a new tab (its own
 * browser context, so its own localStorage) and registers `aor`.
 * Returns { page, errors }.
 */
export async function openPhone(browser, url, aor, { name, query = '' } = {}) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors = watchPageErrors(page);
  await page.goto(`${url}/${query}`);
  await page.waitForSelector('#wasm-state[data-state="started"]', { timeout: 10000 });
  await page.waitForSelector('#conn-state[data-state="connected"]', { timeout: 10000 });
  await page.fill('#aor', aor);
  if (name) await page.fill('#display-name', name);
  await page.click('#register');
  await page.waitForSelector('#reg-state[data-state="registered"]', { timeout: 10000 });
  return { page, errors };
}

/** Dials `target` from the page's dial form. */
export async function dial(page, target, { video = true } = {}) {
  await page.fill('#target', target);
  await page.setChecked('#video', video);
  await page.click('#dial');
}

/** Waits until the page's call state is `state` (idle counts `ended`). */
export async function callState(page, state, timeout = 15000) {
  await page.waitForSelector(`#call-state[data-state="${state}"]`, { timeout });
}

/** The connectionState of the current call's RTCPeerConnection. */
export async function waitConnected(page, timeout = 15000) {
  await page.waitForFunction(() => {
    const { peer, state } = window.p2p;
    return state.call !== null && peer.peerConnection(state.call)?.connectionState === 'connected';
  }, null, { timeout });
}

/** Inbound RTP packets received so far, by kind, on the current call. */
export async function inboundPackets(page) {
  return page.evaluate(async () => {
    const { peer, state } = window.p2p;
    const pc = state.call === null ? null : peer.peerConnection(state.call);
    const counts = { audio: 0, video: 0 };
    if (!pc) return counts;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') counts[s.kind] += s.packetsReceived ?? 0;
    });
    return counts;
  });
}

/** Asserts inbound audio and video packets keep arriving on the page. */
export async function assertMediaFlows(page, { timeoutMs = 10000 } = {}) {
  const first = await inboundPackets(page);
  const later = await waitFor(async () => {
    const now = await inboundPackets(page);
    return now.audio > first.audio && now.video > first.video && now;
  }, { timeoutMs, intervalMs: 200, what: `inbound audio and video packets to grow past ${JSON.stringify(first)}` });
  assert.ok(later.audio > first.audio && later.video > first.video);
  return later;
}

/** Page errors, minus the ones a test provokes on purpose. */
export function unexpected(errors) {
  return errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
}
