// `make bench-browser`: call set-up time through the WASM peer and a
// 2-super-node ring, against a bare WebRTC connection between two pages,
// and the gzipped size of what the browser downloads. Prints one line per
// figure: `figure: NAME VALUE UNIT`.
//
// Both measurements run the same WebRTC steps on loopback with Chromium's
// fake camera and microphone: getUserMedia on both sides, offer, answer,
// each side waiting for ICE gathering to complete (SIP carries one
// complete SDP; the baseline does the same so the difference is the
// signalling). Times are taken in the caller's page from the dial to
// iceConnectionState `connected` and to the first decoded remote video
// frame (requestVideoFrameCallback). The baseline's SDP is relayed
// between its two pages by this process (playwright bindings), a loopback
// signalling server. A trickle-ICE baseline (candidates sent as found, no
// waiting for gathering) is measured as well: it is the fastest a page
// can connect, and the peer's overhead is reported against both.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { startRing, repoRoot } from '../lib/supernode.mjs';
import { launchBrowser } from '../lib/browser.mjs';

const CALLS = Number(process.env.BENCH_CALLS || 10);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function figure(name, value, unit) {
  console.log(`figure: ${name} ${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`);
}

/** Loads the peer module in a page and creates a Peer with `onEvent` in the page. */
async function peerPage(browser, url) {
  const page = await browser.newPage();
  if (process.env.BENCH_DEBUG) {
    page.on('console', (m) => console.error('console', m.type(), m.text()));
    page.on('pageerror', (e) => console.error('pageerror', e.message));
    page.on('crash', () => console.error('page crashed'));
  }
  await page.goto(`${url}/`);
  await page.waitForSelector('#wasm-state[data-state="started"]');
  await page.evaluate(async () => {
    const { Peer } = await import('./pkg/peer_wasm.js');
    const events = [];
    const waiters = [];
    window.bench = {
      events,
      // Resolves with the first event matching `pred` from now on.
      next(pred) { return new Promise((resolve) => waiters.push({ pred, resolve })); },
      // Like `next`, but an event that already happened counts too.
      seen(pred) { return events.find(pred) ?? window.bench.next(pred); },
    };
    window.bench.peer = new Peer({ hosts: [location.origin], storageKey: null }, (e) => {
      events.push(e);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].pred(e)) waiters.splice(i, 1)[0].resolve(e);
      }
    });
    const connected = window.bench.next((e) => e.type === 'connection' && e.state === 'connected');
    window.bench.peer.connect();
    await connected;
  });
  return page;
}

async function register(page, aor) {
  await page.evaluate(async (aor) => {
    const done = window.bench.next((e) => e.type === 'registration');
    window.bench.peer.register(aor);
    const e = await done;
    if (e.state !== 'registered') throw new Error(`register ${aor}: ${e.code} ${e.reason}`);
  }, aor);
}

/** One call from `caller` to `target` through the ring; returns timings in ms. */
async function sipCall(caller, callee, target) {
  await callee.evaluate(() => {
    window.bench.answerNext = window.bench.next((e) => e.type === 'incoming').then((e) => {
      window.bench.peer.answer(e.call, { video: true });
      return e.call;
    });
  });
  const timing = await caller.evaluate(async (target) => {
    const { peer, next } = window.bench;
    const t0 = performance.now();
    const call = peer.call(target, { video: true });
    const remote = next((e) => e.type === 'stream' && e.call === call && e.kind === 'remote');
    // The connection exists once the peer's async set-up has started.
    let pc;
    while (!(pc = peer.peerConnection(call))) await new Promise((r) => setTimeout(r, 0));
    const ice = new Promise((resolve) => {
      const check = () => {
        if (['connected', 'completed'].includes(pc.iceConnectionState)) resolve(performance.now() - t0);
      };
      pc.addEventListener('iceconnectionstatechange', check);
      check();
    });
    const frame = remote.then(({ stream }) => new Promise((resolve) => {
      const video = document.createElement('video');
      video.muted = true;
      video.srcObject = stream;
      video.requestVideoFrameCallback(() => resolve(performance.now() - t0));
      video.play();
    }));
    const [iceMs, frameMs] = await Promise.all([ice, frame]);
    const ended = next((e) => e.type === 'call' && e.call === call && e.state === 'ended');
    peer.hangup(call);
    await ended;
    return { iceMs, frameMs };
  }, target);
  await callee.evaluate(async () => {
    const call = await window.bench.answerNext;
    await window.bench.seen((e) => e.type === 'call' && e.call === call && e.state === 'ended');
  });
  return timing;
}

/**
 * Two pages (separate windows, like the SIP pages) whose `signal(msg)`
 * delivers `msg` to the other page's `window.onSignal` through this
 * process: the signalling server of the bare baseline.
 */
async function barePages(browser, url) {
  const [x, y] = [await browser.newPage(), await browser.newPage()];
  await x.exposeBinding('signal', (_, msg) => y.evaluate((m) => window.onSignal(m), msg));
  await y.exposeBinding('signal', (_, msg) => x.evaluate((m) => window.onSignal(m), msg));
  for (const p of [x, y]) await p.goto(`${url}/`);
  return [x, y];
}

/** A bare WebRTC call from `caller` to `callee`; `trickle` sends candidates as found. */
async function bareCall(caller, callee, trickle) {
  await callee.evaluate((trickle) => {
    const gathered = (pc) => new Promise((r) => {
      if (pc.iceGatheringState === 'complete') r();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
    });
    const pc = new RTCPeerConnection();
    window.barePc = pc;
    window.onSignal = async (data) => {
      if (data.candidate) { await pc.addIceCandidate(data.candidate); return; }
      const camera = navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      await pc.setRemoteDescription(data.offer);
      const stream = await camera;
      stream.getTracks().forEach((t) => pc.addTrack(t, stream));
      if (trickle) pc.onicecandidate = (e) => e.candidate && window.signal({ candidate: e.candidate.toJSON() });
      await pc.setLocalDescription(await pc.createAnswer());
      if (!trickle) await gathered(pc);
      window.signal({ answer: pc.localDescription.toJSON() });
    };
  }, trickle);
  const timing = await caller.evaluate(async (trickle) => {
    const t0 = performance.now();
    const pc = new RTCPeerConnection();
    const ice = new Promise((resolve) => {
      pc.oniceconnectionstatechange = () => ['connected', 'completed'].includes(pc.iceConnectionState) && resolve(performance.now() - t0);
    });
    const frame = new Promise((resolve) => {
      pc.ontrack = (e) => {
        if (e.track.kind !== 'video') return;
        const video = document.createElement('video');
        video.muted = true;
        video.srcObject = e.streams[0];
        video.requestVideoFrameCallback(() => resolve(performance.now() - t0));
        video.play();
      };
    });
    window.onSignal = async (data) => {
      if (data.candidate) await pc.addIceCandidate(data.candidate);
      if (data.answer) await pc.setRemoteDescription(data.answer);
    };
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    stream.getTracks().forEach((t) => pc.addTrack(t, stream));
    if (trickle) pc.onicecandidate = (e) => e.candidate && window.signal({ candidate: e.candidate.toJSON() });
    await pc.setLocalDescription(await pc.createOffer());
    if (!trickle) {
      await new Promise((r) => {
        if (pc.iceGatheringState === 'complete') r();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
      });
    }
    window.signal({ offer: pc.localDescription.toJSON() });
    const [iceMs, frameMs] = await Promise.all([ice, frame]);
    pc.close();
    stream.getTracks().forEach((t) => t.stop());
    return { iceMs, frameMs };
  }, trickle);
  await callee.evaluate(() => { window.barePc.getSenders().forEach((s) => s.track?.stop()); window.barePc.close(); });
  return timing;
}

function gz(file) {
  return gzipSync(readFileSync(path.join(repoRoot, file)), { level: 9 }).length;
}

const ring = await startRing(2);
const chrome = await launchBrowser();
try {
  // Through the WASM peer and the ring: A on super-node 1, B on super-node 2.
  const a = await peerPage(chrome.browser, ring.nodes[0].url);
  const b = await peerPage(chrome.browser, ring.nodes[1].url);
  await register(a, 'alice@bench.example');
  await register(b, 'bob@bench.example');
  await sipCall(a, b, 'bob@bench.example'); // warm-up (camera start, code paths)
  const sip = [];
  for (let i = 0; i < CALLS; i++) sip.push(await sipCall(a, b, 'bob@bench.example'));

  // Bare WebRTC between two pages, SDP relayed through this process.
  const [x, y] = await barePages(chrome.browser, ring.nodes[0].url);
  await bareCall(x, y, false); // warm-up
  const bare = [];
  const trickle = [];
  for (let i = 0; i < CALLS; i++) bare.push(await bareCall(x, y, false));
  for (let i = 0; i < CALLS; i++) trickle.push(await bareCall(x, y, true));

  const med = (list, key) => median(list.map((t) => t[key]));
  figure('browser_call_dial_to_ice_connected_median', med(sip, 'iceMs'), 'ms');
  figure('browser_call_dial_to_first_frame_median', med(sip, 'frameMs'), 'ms');
  figure('bare_webrtc_to_ice_connected_median', med(bare, 'iceMs'), 'ms');
  figure('bare_webrtc_to_first_frame_median', med(bare, 'frameMs'), 'ms');
  figure('browser_call_overhead_ice_connected_median', med(sip, 'iceMs') - med(bare, 'iceMs'), 'ms');
  figure('browser_call_overhead_first_frame_median', med(sip, 'frameMs') - med(bare, 'frameMs'), 'ms');
  figure('bare_webrtc_trickle_to_ice_connected_median', med(trickle, 'iceMs'), 'ms');
  figure('bare_webrtc_trickle_to_first_frame_median', med(trickle, 'frameMs'), 'ms');
  figure('browser_call_overhead_vs_trickle_ice_connected_median', med(sip, 'iceMs') - med(trickle, 'iceMs'), 'ms');
  figure('browser_call_overhead_vs_trickle_first_frame_median', med(sip, 'frameMs') - med(trickle, 'frameMs'), 'ms');
  const wasm = gz('www/pkg/peer_wasm_bg.wasm');
  const glue = gz('www/pkg/peer_wasm.js');
  figure('peer_wasm_gzip', wasm, 'bytes');
  figure('peer_js_glue_gzip', glue, 'bytes');
  figure('peer_wasm_plus_js_gzip', wasm + glue, 'bytes');
  figure('page_app_js_gzip', gz('www/app.js'), 'bytes');
  figure('widget_js_gzip', gz('www/widget.js'), 'bytes');
} finally {
  await chrome.close();
  await ring.stop();
}
