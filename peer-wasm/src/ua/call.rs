//! A call's state and what both directions share: hang up, end, time-outs,
//! and answers to an INVITE whose transaction is already over.

use sip::dialog::{Dialog, DialogId};
use sip::transaction::cancel_for;
use sip::{Method, Request, Response, Uri};

use super::event::{CallHandle, CallPhase, Event, UaError};
use super::txn::Purpose;
use super::UserAgent;

/// Whether the page hung up an outgoing call before its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancel {
    /// No.
    No,
    /// Yes, before any provisional response: RFC 3261 §9.1 says wait for
    /// one before sending CANCEL.
    Wanted,
    /// CANCEL sent; the INVITE's final answer (487) ends the call.
    Sent,
}

/// One call.
#[derive(Debug)]
pub struct Call {
    pub handle: CallHandle,
    pub outgoing: bool,
    pub phase: CallPhase,
    /// Outgoing: whom we call. Incoming: the caller.
    pub target: Uri,
    /// The INVITE we sent or received.
    pub invite: Option<Request>,
    pub dialog: Option<Dialog>,
    /// Outgoing: a provisional response arrived, so CANCEL is allowed.
    pub provisional: bool,
    pub cancel: Cancel,
    /// Incoming: we sent the 2xx and wait for its ACK.
    pub answered: bool,
    /// Incoming and answered: hang up if the ACK is not here by then.
    pub deadline_ms: Option<u64>,
}

impl Call {
    pub fn new(handle: CallHandle, outgoing: bool, phase: CallPhase, target: Uri) -> Call {
        Call {
            handle,
            outgoing,
            phase,
            target,
            invite: None,
            dialog: None,
            provisional: false,
            cancel: Cancel::No,
            answered: false,
            deadline_ms: None,
        }
    }

    pub fn deadline_ms(&self) -> Option<u64> {
        self.deadline_ms
    }

    pub fn in_dialog(&self, id: &DialogId) -> bool {
        self.dialog.as_ref().is_some_and(|d| d.id() == id)
    }
}

impl UserAgent {
    /// Hangs up: nothing to send while preparing, CANCEL before the answer,
    /// 603 Decline for an unanswered incoming call, BYE once connected.
    pub fn hangup(&mut self, now_ms: u64, call: CallHandle) -> Result<(), UaError> {
        let index = self.call_index(call)?;
        let c = &mut self.calls[index];
        match c.phase {
            CallPhase::Preparing => self.end_call(call, 0, "hung up"),
            CallPhase::Calling | CallPhase::Ringing => {
                if c.cancel == Cancel::No {
                    c.cancel = Cancel::Wanted;
                    if c.provisional {
                        self.send_cancel(now_ms, index);
                    }
                }
            }
            CallPhase::Incoming => return self.reject(now_ms, call, 603),
            CallPhase::Connected => {
                self.send_bye(now_ms, index);
                self.end_call(call, 0, "hung up");
            }
            CallPhase::Ended => {}
        }
        self.pump(now_ms);
        Ok(())
    }

    /// The media could not be set up (no camera, no offer …): end the call
    /// the way that fits its phase.
    pub fn fail_call(&mut self, now_ms: u64, call: CallHandle, reason: &str) -> Result<(), UaError> {
        let index = self.call_index(call)?;
        match self.calls[index].phase {
            CallPhase::Preparing => self.end_call(call, 0, reason),
            CallPhase::Incoming => {
                self.reject(now_ms, call, 488)?;
            }
            _ => self.hangup(now_ms, call)?,
        }
        Ok(())
    }

    pub(super) fn send_cancel(&mut self, now_ms: u64, index: usize) {
        let c = &mut self.calls[index];
        let Some(invite) = &c.invite else { return };
        let cancel = cancel_for(invite);
        c.cancel = Cancel::Sent;
        // The INVITE transaction now gives up after 64·T1 without a final
        // answer, which ends the call as 408.
        self.txns.handle_cancel_sent(now_ms, invite);
        let purpose = Purpose::Cancel(c.handle);
        self.send_request(now_ms, cancel, purpose);
    }

    pub(super) fn send_bye(&mut self, now_ms: u64, index: usize) {
        let via = self.local.via();
        let c = &mut self.calls[index];
        let Some(dialog) = c.dialog.as_mut() else { return };
        // Err is an exhausted CSeq space: nothing can be sent in this
        // dialog any more, and the peer's media times out on its own.
        if let Ok(bye) = dialog.request(Method::Bye, via) {
            let purpose = Purpose::Bye(c.handle);
            self.send_request(now_ms, bye, purpose);
        }
    }

    /// Forgets the call and tells the page.
    pub(super) fn end_call(&mut self, call: CallHandle, code: u16, reason: &str) {
        if let Some(index) = self.calls.iter().position(|c| c.handle == call) {
            self.calls.remove(index);
            self.io.emit(Event::Call { call, phase: CallPhase::Ended, code, reason: reason.to_owned() });
        }
    }

    pub(super) fn set_phase(&mut self, index: usize, phase: CallPhase, code: u16, reason: &str) {
        let c = &mut self.calls[index];
        c.phase = phase;
        let call = c.handle;
        self.io.emit(Event::Call { call, phase, code, reason: reason.to_owned() });
    }

    /// An answered call whose ACK never came is hung up (§13.3.1.4).
    pub(super) fn check_ack_timeouts(&mut self, now_ms: u64) {
        let due: Vec<(usize, CallHandle)> = self
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.deadline_ms.is_some_and(|d| d <= now_ms))
            .map(|(i, c)| (i, c.handle))
            .collect();
        // Highest index first so earlier indices stay valid while removing.
        for (index, call) in due.into_iter().rev() {
            self.send_bye(now_ms, index);
            self.end_call(call, 408, "no ACK");
        }
    }

    /// A 2xx to an INVITE after the first: a retransmission (ACK it
    /// again) or the answer of a second fork, or of a call we gave up (ACK
    /// it, then BYE: §13.2.2.4). Other strays are dropped (RFC 6026 §7.2).
    pub(super) fn handle_stray_response(&mut self, now_ms: u64, response: &Response) {
        let is_invite_2xx = (200..300).contains(&response.status)
            && response.headers.cseq().is_some_and(|c| c.method == Method::Invite);
        if !is_invite_2xx {
            return;
        }
        let Some(id) = DialogId::of_received_response(response) else { return };
        let Some(seq) = response.headers.cseq().map(|c| c.seq) else { return };
        let via = self.local.via();
        if let Some(dialog) = self.calls.iter().find(|c| c.in_dialog(&id)).and_then(|c| c.dialog.as_ref()) {
            self.io.send(dialog.ack(seq, via));
            return;
        }
        self.ack_and_bye(now_ms, response);
    }

    /// ACKs a 2xx we do not want and hangs that dialog up.
    pub(super) fn ack_and_bye(&mut self, now_ms: u64, response: &Response) {
        let Some(seq) = response.headers.cseq().map(|c| c.seq) else { return };
        // The response carries everything a UAC dialog takes from the INVITE.
        let pseudo_invite = Request {
            method: Method::Invite,
            uri: self.local.contact_uri().clone(),
            headers: response.headers.clone(),
            body: Vec::new(),
        };
        let Ok(mut dialog) = Dialog::new_uac(&pseudo_invite, response) else { return };
        self.io.send(dialog.ack(seq, self.local.via()));
        if let Ok(bye) = dialog.request(Method::Bye, self.local.via()) {
            self.send_request(now_ms, bye, Purpose::Bye(0));
        }
    }
}
