// Embeddable call button. On any site:
//
//   <script src="https://supernode.example/widget.js" defer></script>
//   <p2p-call to="sip:support@example.org" label="Call support" video></p2p-call>
//
// Attributes: `to` (required), `label`, `video` (send the camera too),
// `from` (register this address first, so the callee sees who calls and
// can call back; otherwise the call comes from an anonymous guest).
// The WASM peer is loaded from the super-node that served this script, and
// connects there (then fails over to the super-nodes it reports). Only the
// peer's JavaScript API is used (README, "JavaScript API").
(() => {
  'use strict';
  if (customElements.get('p2p-call')) return;
  const script = document.currentScript;
  const base = new URL('.', script ? script.src : location.href);

  // One peer for every button on the page, loaded on first use.
  let shared = null;
  const owners = new Map(); // call id -> element

  function loadPeer() {
    shared ??= (async () => {
      const mod = await import(new URL('pkg/peer_wasm.js', base).href);
      await mod.default({ module_or_path: new URL('pkg/peer_wasm_bg.wasm', base) });
      let connected;
      const ready = new Promise((resolve) => { connected = resolve; });
      const peer = new mod.Peer({ hosts: [base.origin], storageKey: 'p2psip.widget.hosts' }, (e) => {
        if (e.type === 'connection' && e.state === 'connected') connected();
        if (e.call !== undefined) owners.get(e.call)?.onPeerEvent(e);
      });
      peer.connect();
      await ready;
      return peer;
    })();
    shared.catch(() => { shared = null; }); // a later click retries
    return shared;
  }

  // A handset, inline: emoji fonts are not everywhere.
  const PHONE_ICON = '<svg aria-hidden="true" width="1em" height="1em" viewBox="0 0 24 24" fill="currentColor">'
    + '<path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"/></svg>';

  const STYLE = `
    :host { display: inline-block; font: 15px system-ui, sans-serif; }
    button { font: inherit; display: inline-flex; align-items: center; gap: .45em; padding: .55em 1.1em;
      border: 0; border-radius: 999px; background: #137333; color: #fff; cursor: pointer; }
    button.active { background: #b3261e; }
    button:disabled { opacity: .6; cursor: progress; }
    .status { display: block; margin-top: .35em; font-size: .85em; color: #5f6b7a; min-height: 1.2em; }
    video { display: none; margin-top: .5em; width: 16em; border-radius: 8px; background: #000; }
    video.on { display: block; }`;

  class P2pCall extends HTMLElement {
    constructor() {
      super();
      const root = this.attachShadow({ mode: 'open' });
      root.innerHTML = `<style>${STYLE}</style>
        <button part="button" type="button">${PHONE_ICON}<span class="label"></span></button>
        <span class="status" part="status" role="status"></span>
        <video part="video" autoplay playsinline></video>`;
      this.button = root.querySelector('button');
      this.labelEl = root.querySelector('.label');
      this.statusEl = root.querySelector('.status');
      this.video = root.querySelector('video');
      this.call = null;
      this.button.addEventListener('click', () => this.toggle());
    }

    connectedCallback() {
      this.labelEl.textContent = this.getAttribute('label') || `Call ${this.getAttribute('to') ?? ''}`;
      this.setState('idle', '');
    }

    disconnectedCallback() {
      if (this.call !== null) this.peer?.hangup(this.call);
    }

    setState(state, text) {
      this.dataset.state = state;
      this.statusEl.textContent = text;
      const busy = !['idle', 'ended'].includes(state);
      this.button.classList.toggle('active', busy);
      this.labelEl.textContent = busy ? 'Hang up' : (this.getAttribute('label') || `Call ${this.getAttribute('to')}`);
    }

    async toggle() {
      if (this.call !== null) {
        this.peer.hangup(this.call);
        return;
      }
      this.button.disabled = true;
      this.setState('connecting', 'connecting…');
      try {
        this.peer = await loadPeer();
        const from = this.getAttribute('from');
        if (from) this.peer.register(from);
        this.call = this.peer.call(this.getAttribute('to'), { video: this.hasAttribute('video') });
        owners.set(this.call, this);
      } catch (err) {
        this.setState('ended', `could not call: ${err.message ?? err}`);
      } finally {
        this.button.disabled = false;
      }
    }

    onPeerEvent(e) {
      if (e.type === 'stream' && e.kind === 'remote') {
        this.video.srcObject = e.stream;
        this.video.classList.toggle('on', e.stream.getVideoTracks().length > 0);
      }
      if (e.type !== 'call') return;
      const text = {
        preparing: 'starting…', calling: 'calling…', ringing: 'ringing…', connected: 'connected',
      }[e.state];
      if (e.state !== 'ended') {
        this.setState(e.state, text ?? e.state);
        return;
      }
      owners.delete(this.call);
      this.call = null;
      this.video.srcObject = null;
      this.video.classList.remove('on');
      const why = { 404: 'nobody there', 480: 'unavailable', 486: 'busy', 603: 'declined', 487: 'cancelled' }[e.code];
      this.setState('ended', why ? `call ${why}` : 'call ended');
      this.dispatchEvent(new CustomEvent('p2p-call-ended', { detail: { code: e.code, reason: e.reason } }));
    }
  }

  customElements.define('p2p-call', P2pCall);
})();
