//! Incoming calls: INVITE, 180, accept (200) or reject, ACK, CANCEL, BYE.

use sip::dialog::{Dialog, DialogId};
use sip::{ContentType, Header, Request, Response};

pub use super::call::Call;
use super::event::{CallHandle, CallPhase, Event, UaError};
use super::local::allow;
use super::{UserAgent, MAX_CALLS};

impl UserAgent {
    pub(super) fn handle_invite(&mut self, now_ms: u64, request: Request) {
        let _ = now_ms;
        if request.headers.to().and_then(|t| t.tag()).is_some() {
            // A re-INVITE: we never renegotiate media, so refuse the offer
            // and keep the call as it is (RFC 3261 §14.2).
            let known = DialogId::of_received_request(&request)
                .is_some_and(|id| self.calls.iter().any(|c| c.in_dialog(&id)));
            let status = if known { 488 } else { 481 };
            self.io.send(Response::builder(&request, status).build());
            return;
        }
        let branch = request.headers.top_via().and_then(|v| v.branch());
        if let Some(c) = self.calls.iter().find(|c| !c.outgoing && c.invite_branch() == branch) {
            // A retransmission: answer it as before.
            let again = match &c.final_response {
                Some(response) => response.clone(),
                None => self.ringing(c),
            };
            self.io.send(again);
            return;
        }
        if self.calls.len() >= MAX_CALLS {
            self.io.send(Response::builder(&request, 486).build());
            return;
        }
        let is_sdp = request.headers.content_type().is_some_and(|ct| ct.is("application/sdp"));
        if !is_sdp || request.body.is_empty() {
            // WebRTC needs the offer in the INVITE; we do not do late offers.
            self.io.send(Response::builder(&request, 488).reason("Offer Required").build());
            return;
        }
        let tag = self.local.tag();
        let dialog = match Dialog::new_uas(&request, &tag) {
            Ok(dialog) => dialog,
            Err(e) => {
                self.io.send(Response::builder(&request, e.status_code()).reason(e.to_string()).build());
                return;
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
        self.io.send(self.ringing(&call));
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

    fn ringing(&self, call: &Call) -> Response {
        self.response_to_invite(call, 180).unwrap_or_else(|| Response::new(180))
    }

    /// Answers an incoming call with the driver's SDP answer.
    pub fn accept(&mut self, now_ms: u64, call: CallHandle, sdp: &str) -> Result<(), UaError> {
        let index = self.incoming_index(call, "accept")?;
        if !self.io.connected {
            return Err(UaError::NotConnected);
        }
        let c = &self.calls[index];
        let Some(mut ok) = self.response_to_invite(c, 200) else { return Err(UaError::NoSuchCall(call)) };
        ok.headers.push(Header::Supported(vec!["outbound".into()]));
        ok.headers.set(ContentType::sdp().into());
        ok.body = sdp.as_bytes().to_vec();
        self.io.send(ok.clone());
        let c = &mut self.calls[index];
        if let Some(dialog) = c.dialog.as_mut() {
            dialog.confirm();
        }
        c.final_response = Some(ok);
        c.deadline_ms = Some(now_ms + self.config.ack_timeout_ms);
        self.set_phase(index, CallPhase::Connected, 200, "OK");
        Ok(())
    }

    /// Declines an incoming call: 486 Busy Here, 603 Decline, 480 …
    pub fn reject(&mut self, now_ms: u64, call: CallHandle, status: u16) -> Result<(), UaError> {
        let _ = now_ms;
        if !(300..=699).contains(&status) {
            return Err(UaError::BadStatus(status));
        }
        let index = self.incoming_index(call, "reject")?;
        if let Some(response) = self.response_to_invite(&self.calls[index], status) {
            let reason = response.reason.clone();
            self.io.send(response);
            self.end_call(call, status, &reason);
        }
        Ok(())
    }

    fn incoming_index(&self, call: CallHandle, action: &'static str) -> Result<usize, UaError> {
        let index = self.call_index(call)?;
        match self.calls[index].phase {
            CallPhase::Incoming => Ok(index),
            phase => Err(UaError::WrongPhase { call, phase: phase.as_str(), action }),
        }
    }

    pub(super) fn handle_ack(&mut self, request: &Request) {
        let Some(id) = DialogId::of_received_request(request) else { return };
        if let Some(c) = self.calls.iter_mut().find(|c| c.in_dialog(&id)) {
            if let Some(dialog) = c.dialog.as_mut() {
                // An ACK cannot be refused; a bad one is simply ignored.
                let _ = dialog.handle_request(request);
            }
            if c.final_response.is_some() {
                c.deadline_ms = None;
            }
        }
    }

    pub(super) fn handle_cancel(&mut self, request: &Request) {
        let branch = request.headers.top_via().and_then(|v| v.branch());
        let call_id = request.headers.call_id();
        let found = self.calls.iter().position(|c| {
            !c.outgoing
                && c.invite_branch() == branch
                && c.invite.as_ref().and_then(|i| i.headers.call_id()) == call_id
        });
        let Some(index) = found else {
            self.io.send(Response::builder(request, 481).build());
            return;
        };
        self.io.send(Response::builder(request, 200).build());
        let c = &self.calls[index];
        if c.phase == CallPhase::Incoming {
            let call = c.handle;
            if let Some(terminated) = self.response_to_invite(c, 487) {
                self.io.send(terminated);
            }
            self.end_call(call, 487, "cancelled by caller");
        }
    }

    pub(super) fn handle_bye(&mut self, request: &Request) {
        let found = DialogId::of_received_request(request)
            .and_then(|id| self.calls.iter().position(|c| c.in_dialog(&id)));
        let Some(index) = found else {
            self.io.send(Response::builder(request, 481).build());
            return;
        };
        let c = &mut self.calls[index];
        if let Some(Err(e)) = c.dialog.as_mut().map(|d| d.handle_request(request)) {
            self.io.send(Response::builder(request, e.status_code()).build());
            return;
        }
        let call = c.handle;
        self.io.send(Response::builder(request, 200).build());
        self.end_call(call, 0, "peer hung up");
    }
}
