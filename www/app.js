// The call page: thin glue over the WASM peer's JavaScript API (README,
// "JavaScript API"). All SIP, failover and WebRTC work happens in the peer.
import init, { Peer, version } from './pkg/peer_wasm.js';

const $ = (id) => document.getElementById(id);

// Why a call ended, in words, by SIP status (0: ended normally).
const ENDINGS = {
  404: 'not found', 480: 'unavailable', 486: 'busy', 487: 'cancelled',
  408: 'no answer', 603: 'declined', 488: 'media not acceptable', 503: 'connection lost',
};

const state = {
  call: null,        // the current call id
  dialing: false,    // peer.call() is running: its first event names the call
  peerUri: null,     // whom it is with
  incoming: null,    // { call, from, video } while ringing here
  connectedAt: 0,
  ticker: null,
  messages: new Map(), // message id -> <li>
};

function show(el, dataState, text) {
  el.dataset.state = dataState;
  el.textContent = text;
}

function hostOf(url) {
  try { return new URL(url.replace(/^ws/, 'http')).host; } catch { return url; }
}

// ---- call timer ----

function startTimer() {
  state.connectedAt = performance.now();
  clearInterval(state.ticker);
  state.ticker = setInterval(tick, 500);
  tick();
}

function tick() {
  const secs = Math.floor((performance.now() - state.connectedAt) / 1000);
  $('call-timer').textContent = `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
}

function stopTimer() {
  clearInterval(state.ticker);
  state.ticker = null;
}

// ---- events from the peer ----

const handlers = {
  connection(e) {
    const text = {
      connecting: `connecting to ${hostOf(e.url)}…`,
      connected: `connected to ${hostOf(e.url)}`,
      disconnected: `disconnected${e.url ? ` from ${hostOf(e.url)}` : ''}`,
      waiting: `retrying in ${(e.retryInMs / 1000).toFixed(1)} s`,
    }[e.state] ?? e.state;
    show($('conn-state'), e.state, text);
    if (e.state === 'connected') $('conn-state').dataset.host = hostOf(e.url);
  },

  registration(e) {
    const text = {
      registered: `registered as ${e.aor} (${e.expires} s)`,
      unregistered: e.reason === 'connection lost' ? 'connection lost, will register again' : 'not registered',
      failed: `registration failed: ${e.code} ${e.reason}`,
    }[e.state];
    show($('reg-state'), e.state, text);
    $('unregister').disabled = e.state !== 'registered';
  },

  incoming(e) {
    if (state.call !== null) {
      peer.decline(e.call, 486); // one call at a time: busy
      return;
    }
    state.incoming = e;
    state.call = e.call;
    $('call-timer').textContent = '00:00';
    $('call-state').dataset.call = e.call;
    state.peerUri = e.from;
    $('incoming-from').textContent = e.displayName ? `${e.displayName} <${e.from}>` : e.from;
    $('incoming-kind').textContent = e.video ? ' (video)' : ' (audio)';
    $('incoming').hidden = false;
    show($('call-state'), 'incoming', `incoming call from ${e.from}`);
    $('hangup').disabled = true;
  },

  call(e) {
    if (state.call === null && state.dialing) state.call = e.call;
    if (e.call !== state.call) return;
    const el = $('call-state');
    el.dataset.code = e.code;
    el.dataset.call = e.call;
    switch (e.state) {
      case 'preparing': show(el, e.state, `starting camera for ${state.peerUri}…`); break;
      case 'calling': show(el, e.state, `calling ${state.peerUri}…`); break;
      case 'ringing': show(el, e.state, `ringing ${state.peerUri}…`); break;
      case 'connected':
        show(el, e.state, `in call with ${state.peerUri}`);
        $('incoming').hidden = true;
        $('dtmf').disabled = false;
        startTimer();
        break;
      case 'ended': {
        const why = ENDINGS[e.code] ?? (e.reason || 'ended');
        show(el, 'ended', `call ${why}${e.code === 404 ? `: ${state.peerUri}` : ''}`);
        endCall();
        return;
      }
      default: show(el, e.state, e.state);
    }
    $('hangup').disabled = false;
  },

  stream(e) {
    if (e.call !== state.call) return;
    const video = $(e.kind === 'local' ? 'local-video' : 'remote-video');
    if (video.srcObject !== e.stream) video.srcObject = e.stream;
  },

  ice(e) {
    if (e.call === state.call) $('call').dataset.ice = e.state;
  },

  message(e) {
    addChat('in', e.displayName || e.from, e.text);
    if (!$('chat-to').value) $('chat-to').value = e.from;
  },

  messageStatus(e) {
    const li = state.messages.get(e.id);
    if (!li) return;
    li.dataset.status = e.ok ? 'delivered' : 'failed';
    if (!e.ok) li.title = `${e.code} ${e.reason}`;
    state.messages.delete(e.id);
  },

  hosts(e) {
    $('hosts').textContent = e.hosts.map(hostOf).join(', ');
  },

  error(e) {
    console.warn('p2p peer:', e.message);
  },
};

function onEvent(e) {
  handlers[e.type]?.(e);
}

function endCall() {
  stopTimer();
  state.call = null;
  state.incoming = null;
  $('incoming').hidden = true;
  $('hangup').disabled = true;
  $('dtmf').disabled = true;
  $('dtmf').value = '';
  $('remote-video').srcObject = null;
  $('local-video').srcObject = null;
  delete $('call').dataset.ice;
}

function addChat(direction, who, text) {
  const li = document.createElement('li');
  li.className = direction;
  const name = document.createElement('b');
  name.textContent = who;
  li.append(name, document.createTextNode(` ${text}`));
  $('chat-log').append(li);
  li.scrollIntoView({ block: 'nearest' });
  return li;
}

// ---- user actions ----

function act(fn) {
  try {
    fn();
  } catch (err) {
    show($('call-state'), 'error', String(err.message ?? err));
  }
}

function wire() {
  $('register-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => peer.register($('aor').value.trim(), $('display-name').value.trim() || undefined));
    localStorage.setItem('p2psip.aor', $('aor').value.trim());
  });
  $('unregister').addEventListener('click', () => peer.unregister());
  $('dial-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (state.call !== null) return;
    state.peerUri = $('target').value.trim();
    $('call-timer').textContent = '00:00';
    state.dialing = true;
    act(() => { state.call = peer.call(state.peerUri, { video: $('video').checked }); });
    state.dialing = false;
  });
  $('answer').addEventListener('click', () => {
    if (state.incoming) act(() => peer.answer(state.incoming.call, { video: $('video').checked }));
    $('incoming').hidden = true;
  });
  $('decline').addEventListener('click', () => state.incoming && act(() => peer.decline(state.incoming.call, 603)));
  $('busy').addEventListener('click', () => state.incoming && act(() => peer.decline(state.incoming.call, 486)));
  $('hangup').addEventListener('click', () => state.call !== null && act(() => peer.hangup(state.call)));
  $('dtmf').addEventListener('keydown', (ev) => {
    if (ev.key.length === 1 && /[0-9*#A-D]/i.test(ev.key) && state.call !== null) {
      act(() => peer.sendDtmf(state.call, ev.key));
    }
  });
  $('chat-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const to = $('chat-to').value.trim() || state.peerUri || $('target').value.trim();
    const text = $('chat-text').value;
    act(() => {
      const id = peer.sendMessage(to, text);
      const li = addChat('out', `to ${to}`, text);
      li.dataset.status = 'sending';
      state.messages.set(id, li);
      $('chat-text').value = '';
    });
  });
}

// ---- start ----

let peer;
try {
  await init();
  show($('wasm-state'), 'started', `peer v${version()}`);
  const params = new URLSearchParams(location.search);
  const hosts = [location.origin, ...(params.get('hosts')?.split(',').filter(Boolean) ?? [])];
  // ?ice=stun:stun.example.org:3478,turn:… adds ICE servers (no credentials).
  const iceServers = (params.get('ice')?.split(',').filter(Boolean) ?? []).map((urls) => ({ urls }));
  peer = new Peer({ hosts, iceServers }, onEvent);
  $('hosts').textContent = peer.hosts().map(hostOf).join(', ');
  $('aor').value = params.get('aor') ?? localStorage.getItem('p2psip.aor') ?? '';
  wire();
  peer.connect();
  window.p2p = { peer, state };
} catch (e) {
  show($('wasm-state'), 'failed', `failed: ${e}`);
  throw e;
}
