//! Incoming calls: INVITE, 180, accept (200) or reject, ACK, CANCEL, BYE.
//! Retransmitted INVITEs never get here: their server transaction answers
//! them with our last response.

use sip::dialog::{Dialog, DialogId};
use sip::transaction::{invite_key_for_cancel, TransactionKey};
use sip::{ContentType, Header, Request, Response};

pub use super::call::Call;
use super::event::{CallHandle, CallPhase, Event, UaError};
use super::local::allow;
use super::{UserAgent, MAX_CALLS};

impl UserAgent {
    pub(super) fn handle_invite(&mut self, now_ms: u64, request: Request) {
        if request.headers.to().and_then(|t| t.tag()).is_some() {
            // A re-INVITE: we never renegotiate media, so refuse the offer
            // and keep the call as it is (RFC 3261 §14.2).
            let known = DialogId::of_received_request(&request)
                .is_some_and(|id| self.calls.iter().any(|c| c.in_dialog(&id)));
            let status = if known { 488 } else { 481 };
            return self.respond(now_ms, Response::builder(&request, status).build());
        }
        if self.calls.len() >= MAX_CALLS {
            return self.respond(now_ms, Response::builder(&request, 486).build());
        }
        let is_sdp = request.headers.content_type().is_some_and(|ct| ct.is("application/sdp"));
        if !is_sdp || request.body.is_empty() {
            // WebRTC needs the offer in the INVITE; we do not do late offers.
            let refusal = Response::builder(&request, 488).reason("Offer Required").build();
            return self.respond(now_ms, refusal);
        }
        let tag = self.local.tag();
        let dialog = match Dialog::new_uas(&request, &tag) {
            Ok(dialog) => dialog,
            Err(e) => {
                let refusal = Response::builder(&request, e.status_code()).reason(e.to_string()).build();
                return self.respond(now_ms, refusal);
            }
        };
        let from = request.headers.from().cloned();
        let handle = self.next_call;
        self.next_call += 1;
        let target = from.as_ref().map_or_else(|| request.uri.clone(), |f| f.uri.clone());
        let sdp = String::from_utf8_lossy(&request.body).into_owned();
        let mut call = Call::new(handle, false, CallPhase::Incoming, target);
        call.invite = Some(request);
        call.dialog = Some(dialog);
        if let Some(ringing) = self.response_to_invite(&call, 180) {
            self.respond(now_ms, ringing);
        }
        self.calls.push(call);
        self.io.emit(Event::Incoming {
            call: handle,
            from: from.as_ref().map(|f| f.uri.to_string()).unwrap_or_default(),
            display_name: from.and_then(|f| f.display_name),
            video: crate::sdp::media(&sdp).video,
            sdp,
        });
    }

    /// A response to the INVITE of an incoming call, with our tag and, for
    /// 1xx and 2xx (dialog-creating), Contact and Record-Route (§12.1.1).
    fn response_to_invite(&self, call: &Call, status: u16) -> Option<Response> {
        let invite = call.invite.as_ref()?;
        let tag = call.dialog.as_ref()?.id().local_tag.clone();
        let mut builder = Response::builder(invite, status).to_tag(&tag);
        if status < 300 {
            builder = builder.record_route_from(invite).contact(self.local.contact()).header(allow());
        }
        Some(builder.build())
    }

    /// Answers an incoming call with the driver's SDP answer.
    pub fn accept(&mut self, now_ms: u64, call: CallHandle, sdp: &str) -> Result<(), UaError> {
        let index = self.incoming_index(call, "accept")?;
        if !self.io.connected {
            return Err(UaError::NotConnected);
        }
        let Some(mut ok) = self.response_to_invite(&self.calls[index], 200) else {
            return Err(UaError::NoSuchCall(call));
        };
        ok.headers.push(Header::Supported(vec!["outbound".into()]));
        ok.headers.set(ContentType::sdp().into());
        ok.body = sdp.as_bytes().to_vec();
        self.respond(now_ms, ok);
        let c = &mut self.calls[index];
        if let Some(dialog) = c.dialog.as_mut() {
            dialog.confirm();
        }
        c.answered = true;
        c.deadline_ms = Some(now_ms + self.config.ack_timeout_ms);
        self.set_phase(index, CallPhase::Connected, 200, "OK");
        self.pump(now_ms);
        Ok(())
    }

    /// Declines an incoming call: 486 Busy Here, 603 Decline, 480 …
    pub fn reject(&mut self, now_ms: u64, call: CallHandle, status: u16) -> Result<(), UaError> {
        if !(300..=699).contains(&status) {
            return Err(UaError::BadStatus(status));
        }
        let index = self.incoming_index(call, "reject")?;
        if let Some(response) = self.response_to_invite(&self.calls[index], status) {
            let reason = response.reason.clone();
            self.respond(now_ms, response);
            self.end_call(call, status, &reason);
        }
        self.pump(now_ms);
        Ok(())
    }

    fn incoming_index(&self, call: CallHandle, action: &'static str) -> Result<usize, UaError> {
        let index = self.call_index(call)?;
        match self.calls[index].phase {
            CallPhase::Incoming => Ok(index),
            phase => Err(UaError::WrongPhase { call, phase: phase.as_str(), action }),
        }
    }

    /// The ACK for our 2xx (the one for a non-2xx is the transaction's).
    pub(super) fn handle_ack(&mut self, request: &Request) {
        let Some(id) = DialogId::of_received_request(request) else { return };
        if let Some(c) = self.calls.iter_mut().find(|c| c.in_dialog(&id)) {
            if let Some(dialog) = c.dialog.as_mut() {
                // An ACK cannot be refused; a bad one is simply ignored.
                let _ = dialog.handle_request(request);
            }
            if c.answered {
                c.deadline_ms = None;
            }
        }
    }

    /// CANCEL (§9.2): 200 for the CANCEL, and 487 for its INVITE if we have
    /// not answered it yet; 481 if there is no such INVITE.
    pub(super) fn handle_cancel(&mut self, now_ms: u64, request: &Request) {
        let key = invite_key_for_cancel(request);
        let found = self.calls.iter().position(|c| {
            !c.outgoing && key.is_some() && c.invite.as_ref().and_then(TransactionKey::for_request) == key
        });
        let Some(index) = found else {
            return self.respond(now_ms, Response::builder(request, 481).build());
        };
        self.respond(now_ms, Response::builder(request, 200).build());
        let c = &self.calls[index];
        if c.phase == CallPhase::Incoming {
            let call = c.handle;
            if let Some(terminated) = self.response_to_invite(c, 487) {
                self.respond(now_ms, terminated);
            }
            self.end_call(call, 487, "cancelled by caller");
        }
    }

    pub(super) fn handle_bye(&mut self, now_ms: u64, request: &Request) {
        let found = DialogId::of_received_request(request)
            .and_then(|id| self.calls.iter().position(|c| c.in_dialog(&id)));
        let Some(index) = found else {
            return self.respond(now_ms, Response::builder(request, 481).build());
        };
        let c = &mut self.calls[index];
        if let Some(Err(e)) = c.dialog.as_mut().map(|d| d.handle_request(request)) {
            return self.respond(now_ms, Response::builder(request, e.status_code()).build());
        }
        let call = c.handle;
        self.respond(now_ms, Response::builder(request, 200).build());
        self.end_call(call, 0, "peer hung up");
    }
}
