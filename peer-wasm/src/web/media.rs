//! One call's media: its RTCPeerConnection, the local camera/microphone
//! stream, and the async steps that make the SDP offer or answer.
//!
//! Implementation notes: SIP carries one complete SDP (no trickle ICE), so
//! we wait for ICE gathering before sending it, but only until the useful
//! candidates are in (see [`gather`]) and never longer than the configured
//! limit: a slow or unreachable STUN/TURN server must not hold up the
//! call; whatever candidates exist by then go out. Each async step
//! checks that the call still exists after every await: the page may hang
//! up meanwhile, which drops the [`Media`] and closes its connection.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcConfiguration, RtcIceGatheringState,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use super::js::{self, now_ms, Obj};
use super::{with_weak, CallHandle, WeakShared};

/// A call's RTCPeerConnection and local stream, with the closures the
/// browser calls on it; dropping it closes the connection and stops the
/// camera and microphone.
pub struct Media {
    pub pc: RtcPeerConnection,
    local: Option<MediaStream>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    _on_state: Closure<dyn FnMut(web_sys::Event)>,
    /// Set while waiting for ICE gathering.
    gathering: Option<Closure<dyn FnMut(RtcPeerConnectionIceEvent)>>,
}

impl Media {
    fn new(call: CallHandle, ice_servers: &js_sys::Array, weak: &WeakShared) -> Result<Media, JsValue> {
        let config = RtcConfiguration::new();
        config.set_ice_servers(ice_servers);
        let pc = RtcPeerConnection::new_with_configuration(&config)?;
        let me = weak.clone();
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |e: RtcTrackEvent| {
            // We always send tracks in a stream, and so do other WebRTC
            // peers in practice; a bare track still gets a stream of its own.
            let stream = e.streams().get(0);
            let stream = if stream.is_undefined() { new_stream(&e.track()) } else { stream };
            with_weak(&me, |inner| {
                inner.emit(Obj::event("stream").set("call", call).set("kind", "remote").set("stream", stream))
            });
        });
        let me = weak.clone();
        let watched = pc.clone();
        let on_state = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let state = js::get(&watched, "connectionState");
            with_weak(&me, |inner| inner.emit(Obj::event("ice").set("call", call).set("state", state)));
        });
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        Ok(Media { pc, local: None, _on_track: on_track, _on_state: on_state, gathering: None })
    }
}

impl Drop for Media {
    fn drop(&mut self) {
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.set_onicecandidate(None);
        self.pc.close();
        if let Some(stream) = &self.local {
            stop(stream);
        }
    }
}

fn new_stream(track: &MediaStreamTrack) -> JsValue {
    match MediaStream::new() {
        Ok(stream) => {
            stream.add_track(track);
            stream.into()
        }
        Err(_) => JsValue::UNDEFINED,
    }
}

fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}

/// Outgoing call: media, offer, gathering, then the INVITE.
pub fn start_offer(weak: WeakShared, call: CallHandle, video: bool) {
    wasm_bindgen_futures::spawn_local(async move {
        // A step fails too when the call was hung up meanwhile (its
        // connection is closed); only a live call's failure is news.
        if let Err(e) = offer(&weak, call, video).await {
            if alive(&weak, call) {
                with_weak(&weak, |inner| inner.fail_media(call, &describe(&e)));
            }
        }
    });
}

/// Incoming call: media, answer, gathering, then the 200 OK.
pub fn start_answer(weak: WeakShared, call: CallHandle, video: bool, offer_sdp: String) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = answer(&weak, call, video, &offer_sdp).await {
            if alive(&weak, call) {
                with_weak(&weak, |inner| inner.fail_media(call, &describe(&e)));
            }
        }
    });
}

/// Applies the callee's SDP answer.
pub fn apply_answer(weak: WeakShared, call: CallHandle, pc: RtcPeerConnection, sdp: String) {
    wasm_bindgen_futures::spawn_local(async move {
        let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        description.set_sdp(&sdp);
        if let Err(e) = JsFuture::from(pc.set_remote_description(&description)).await {
            if alive(&weak, call) {
                with_weak(&weak, |inner| inner.fail_media(call, &format!("bad SDP answer: {}", describe(&e))));
            }
        }
    });
}

/// Why a step failed is an error value or a DOMException; its message either way.
fn describe(e: &JsValue) -> String {
    js::get_string(e, "message").or_else(|| e.as_string()).unwrap_or_else(|| "media error".into())
}

/// The call still exists (it was not hung up while we awaited).
fn alive(weak: &WeakShared, call: CallHandle) -> bool {
    weak.upgrade().is_some_and(|shared| shared.borrow().ua.call_phase(call).is_some())
}

/// Creates the call's connection; returns it and the gathering limit.
fn create(weak: &WeakShared, call: CallHandle) -> Result<(RtcPeerConnection, u64), JsValue> {
    let shared = weak.upgrade().ok_or_else(|| js::error("peer closed"))?;
    let mut inner = shared.borrow_mut();
    let media = Media::new(call, &inner.settings.ice_servers, weak)?;
    let pc = media.pc.clone();
    inner.media.push((call, media));
    Ok((pc, inner.settings.ice_gathering_timeout_ms))
}

/// Starts getUserMedia (the promise runs from here on).
fn user_media(video: bool) -> Result<js_sys::Promise, JsValue> {
    let devices = web_sys::window().ok_or_else(|| js::error("no window"))?.navigator().media_devices()?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio_bool(true);
    constraints.set_video_bool(video);
    devices.get_user_media_with_constraints(&constraints)
}

/// Awaits getUserMedia; without a camera, falls back to audio only.
async fn local_stream(started: Result<js_sys::Promise, JsValue>, video: bool) -> Result<MediaStream, JsValue> {
    let first = match started {
        Ok(promise) => JsFuture::from(promise).await,
        Err(e) => Err(e),
    };
    match first {
        Ok(stream) => Ok(stream.unchecked_into()),
        Err(_) if video => Ok(JsFuture::from(user_media(false)?).await?.unchecked_into()),
        Err(e) => Err(e),
    }
}

/// Adds the stream's tracks to the connection and shows it to the page.
/// `false` if the call ended meanwhile (the stream is stopped then).
fn attach(weak: &WeakShared, call: CallHandle, stream: MediaStream) -> bool {
    let Some(shared) = weak.upgrade() else {
        stop(&stream);
        return false;
    };
    let attached = super::with(&shared, |inner| {
        let Some(media) = inner.media.iter_mut().find(|(c, _)| *c == call).map(|(_, m)| m) else { return false };
        for track in stream.get_tracks().iter() {
            media.pc.add_track_0(track.unchecked_ref(), &stream);
        }
        media.local = Some(stream.clone());
        inner.emit(Obj::event("stream").set("call", call).set("kind", "local").set("stream", stream.clone()));
        true
    });
    if !attached {
        stop(&stream);
    }
    attached
}

async fn offer(weak: &WeakShared, call: CallHandle, video: bool) -> Result<(), JsValue> {
    let (pc, limit_ms) = create(weak, call)?;
    let stream = local_stream(user_media(video), video).await?;
    if !attach(weak, call, stream) {
        return Ok(());
    }
    let offer = JsFuture::from(pc.create_offer()).await?;
    JsFuture::from(pc.set_local_description(offer.unchecked_ref())).await?;
    gather(weak, call, &pc, limit_ms).await;
    let sdp = pc.local_description().map(|d| d.sdp()).ok_or_else(|| js::error("no local description"))?;
    with_weak(weak, |inner| {
        if inner.media_of(call).is_some() {
            // The call may have ended locally meanwhile; then there is nothing to send.
            let _ = inner.ua.send_offer(now_ms(), call, &sdp);
        }
    });
    Ok(())
}

async fn answer(weak: &WeakShared, call: CallHandle, video: bool, offer_sdp: &str) -> Result<(), JsValue> {
    let (pc, limit_ms) = create(weak, call)?;
    // Send video only if asked and offered: adding a stream the offer lacks
    // would need a renegotiation.
    let video = video && crate::sdp::media(offer_sdp).video;
    let camera = user_media(video);
    let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    description.set_sdp(offer_sdp);
    JsFuture::from(pc.set_remote_description(&description)).await?;
    let stream = local_stream(camera, video).await?;
    if !attach(weak, call, stream) {
        return Ok(());
    }
    let answer = JsFuture::from(pc.create_answer()).await?;
    JsFuture::from(pc.set_local_description(answer.unchecked_ref())).await?;
    gather(weak, call, &pc, limit_ms).await;
    let sdp = pc.local_description().map(|d| d.sdp()).ok_or_else(|| js::error("no local description"))?;
    let mut refused = None;
    with_weak(weak, |inner| {
        if inner.media_of(call).is_some() {
            refused = inner.ua.accept(now_ms(), call, &sdp).err();
        }
    });
    match refused {
        // Cancelled while we prepared: the call is gone, nothing to report.
        Some(crate::ua::UaError::NoSuchCall(_) | crate::ua::UaError::WrongPhase { .. }) | None => Ok(()),
        Some(e) => Err(js::error(e)),
    }
}

/// After the first usable candidate, how long without a new one before the
/// SDP goes out. Chrome finds every UDP host candidate within a few ms but
/// reports gathering complete only after its TCP candidates, ~120 ms later;
/// those rarely help a browser-to-browser call.
const GATHERING_QUIET_MS: i32 = 30;

/// Waits until ICE gathering is good enough: complete; or, once a usable
/// candidate is in (UDP host, or server-reflexive/relay when ICE servers
/// are configured, so STUN/TURN results are not cut off), no new one for
/// [`GATHERING_QUIET_MS`]; or `limit_ms` passed in any case.
async fn gather(weak: &WeakShared, call: CallHandle, pc: &RtcPeerConnection, limit_ms: u64) {
    if pc.ice_gathering_state() == RtcIceGatheringState::Complete {
        return;
    }
    let needs_server = weak.upgrade().is_some_and(|shared| shared.borrow().settings.ice_servers.length() > 0);
    let mut on_candidate = None;
    let done = js_sys::Promise::new(&mut |resolve: js_sys::Function, _reject| {
        let Some(window) = web_sys::window() else {
            let _ = resolve.call0(&JsValue::NULL);
            return;
        };
        let finish = resolve.clone();
        let timer = window.clone();
        let mut quiet_timer: Option<i32> = None;
        let closure = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(move |e: RtcPeerConnectionIceEvent| {
            let Some(candidate) = e.candidate() else {
                // The end-of-candidates marker: gathering is complete.
                let _ = finish.call0(&JsValue::NULL);
                return;
            };
            if !crate::sdp::usable_candidate(&candidate.candidate(), needs_server) {
                return;
            }
            if let Some(id) = quiet_timer.take() {
                timer.clear_timeout_with_handle(id);
            }
            quiet_timer = timer
                .set_timeout_with_callback_and_timeout_and_arguments_0(&finish, GATHERING_QUIET_MS)
                .ok();
        });
        pc.set_onicecandidate(Some(closure.as_ref().unchecked_ref()));
        on_candidate = Some(closure);
        // The hard limit: resolving twice is harmless.
        let limit = i32::try_from(limit_ms).unwrap_or(i32::MAX);
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, limit);
    });
    // The closure lives in the call's media while we wait, so hanging up
    // drops it together with the connection.
    let stored = weak.upgrade().is_some_and(|shared| {
        let mut inner = shared.borrow_mut();
        match inner.media.iter_mut().find(|(c, _)| *c == call) {
            Some((_, media)) => {
                media.gathering = on_candidate.take();
                true
            }
            None => false,
        }
    });
    if !stored {
        pc.set_onicecandidate(None);
        return;
    }
    let _ = JsFuture::from(done).await;
    pc.set_onicecandidate(None);
    if let Some(shared) = weak.upgrade() {
        if let Some((_, media)) = shared.borrow_mut().media.iter_mut().find(|(c, _)| *c == call) {
            media.gathering = None;
        }
    }
}
