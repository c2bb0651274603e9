//! Outgoing calls: INVITE with the driver's SDP offer, provisional and
//! final answers, ACK, CANCEL.

use sip::dialog::Dialog;
use sip::{ContentType, Header, Method, NameAddr, Request, Response};

use super::call::{Call, Cancel};
use super::event::{CallHandle, CallPhase, Event, UaError};
use super::local::allow;
use super::txn::Purpose;
use super::{UserAgent, MAX_CALLS};

impl UserAgent {
    /// Starts a call to `target` (`sip:bob@example.org`, `bob@example.org`,
    /// or `bob` in our domain). Nothing is sent yet: the driver makes its
    /// SDP offer and passes it to [`UserAgent::send_offer`].
    pub fn start_call(&mut self, target: &str) -> Result<CallHandle, UaError> {
        if !self.io.connected {
            return Err(UaError::NotConnected);
        }
        if self.calls.len() >= MAX_CALLS {
            return Err(UaError::TooManyCalls);
        }
        let target = self.local.target(target)?;
        let handle = self.next_call;
        self.next_call += 1;
        self.calls.push(Call::new(handle, true, CallPhase::Preparing, target));
        self.io.emit(Event::Call { call: handle, phase: CallPhase::Preparing, code: 0, reason: String::new() });
        Ok(handle)
    }

    /// Sends the INVITE of a call in `preparing` with the SDP offer.
    pub fn send_offer(&mut self, now_ms: u64, call: CallHandle, sdp: &str) -> Result<(), UaError> {
        let index = self.call_index(call)?;
        let c = &self.calls[index];
        if c.phase != CallPhase::Preparing {
            return Err(UaError::WrongPhase { call, phase: c.phase.as_str(), action: "send an offer" });
        }
        if !self.io.connected {
            self.end_call(call, 503, "not connected");
            return Ok(());
        }
        let c = &self.calls[index];
        let mut invite = Request::builder(Method::Invite, c.target.clone())
            .via(self.local.via())
            .from(self.local.from())
            .to(NameAddr::new(c.target.clone()))
            .call_id(self.local.call_id())
            .cseq(1)
            .contact(self.local.contact())
            .header(allow())
            .header(Header::Supported(vec!["outbound".into()]))
            .body(ContentType::sdp(), sdp.as_bytes().to_vec())
            .build();
        if let Some(ua) = self.local.user_agent() {
            invite.headers.push(ua);
        }
        self.calls[index].invite = Some(invite.clone());
        self.send_request(now_ms, invite, Purpose::Invite(call));
        self.set_phase(index, CallPhase::Calling, 0, "");
        self.pump(now_ms);
        Ok(())
    }

    pub(super) fn handle_invite_response(&mut self, now_ms: u64, call: CallHandle, response: &Response) {
        let Ok(index) = self.call_index(call) else {
            // The call ended here first; a late 2xx still needs ACK and BYE.
            if (200..300).contains(&response.status) {
                self.ack_and_bye(now_ms, response);
            }
            return;
        };
        match response.status {
            100..=199 => {
                let c = &mut self.calls[index];
                c.provisional = true;
                if c.cancel == Cancel::Wanted {
                    self.send_cancel(now_ms, index);
                } else if response.status > 100 && c.phase == CallPhase::Calling {
                    self.set_phase(index, CallPhase::Ringing, response.status, &response.reason);
                }
            }
            // A further 2xx (retransmission or another fork) once answered.
            200..=299 if self.calls[index].dialog.is_some() => self.handle_stray_response(now_ms, response),
            200..=299 => self.handle_invite_2xx(now_ms, index, response),
            _ => {
                // The transaction has sent the ACK for this one (§17.1.1.3).
                let reason = match (self.calls[index].cancel, response.status) {
                    (Cancel::Sent, 487) => "cancelled",
                    _ => &response.reason,
                };
                let reason = reason.to_owned();
                self.end_call(call, response.status, &reason);
            }
        }
    }

    fn handle_invite_2xx(&mut self, now_ms: u64, index: usize, response: &Response) {
        let c = &mut self.calls[index];
        let call = c.handle;
        let Some(invite) = &c.invite else { return };
        let dialog = match Dialog::new_uac(invite, response) {
            Ok(dialog) => dialog,
            Err(e) => {
                // No usable Contact or tag: we cannot even ACK it.
                self.end_call(call, 502, &format!("bad answer: {e}"));
                return;
            }
        };
        let seq = invite.headers.cseq().map_or(1, |c| c.seq);
        self.io.send(dialog.ack(seq, self.local.via()));
        let cancelled = c.cancel != Cancel::No;
        c.dialog = Some(dialog);
        c.deadline_ms = None;
        if cancelled {
            // The answer crossed our CANCEL: the call was up for a moment.
            self.send_bye(now_ms, index);
            self.end_call(call, 0, "hung up");
            return;
        }
        let sdp = String::from_utf8_lossy(&response.body).into_owned();
        self.io.emit(Event::RemoteAnswer { call, sdp });
        self.set_phase(index, CallPhase::Connected, response.status, &response.reason);
    }
}
