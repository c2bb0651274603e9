// Thin glue: load the WASM peer and show its state. All SIP logic is in Rust.
import init, { Peer, version } from './pkg/peer_wasm.js';

const wasmState = document.getElementById('wasm-state');
const wsState = document.getElementById('ws-state');

function show(el, state, text) {
  el.dataset.state = state;
  el.textContent = text;
}

function onEvent(event) {
  if (event.type === 'ws') {
    const text = {
      connecting: `connecting to ${event.url}`,
      open: `connected (subprotocol ${event.protocol})`,
      closed: `closed (${event.code}${event.reason ? ' ' + event.reason : ''})`,
      error: 'connection error',
    }[event.state] ?? event.state;
    show(wsState, event.state, text);
  }
}

try {
  await init();
  show(wasmState, 'started', `started (v${version()})`);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const peer = new Peer(onEvent);
  peer.connect(`${scheme}://${location.host}/sip`);
  window.p2pPeer = peer;
} catch (e) {
  show(wasmState, 'failed', `failed: ${e}`);
  throw e;
}
