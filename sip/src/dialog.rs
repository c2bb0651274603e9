//! RFC 3261 §12 dialogs for user agents, sans-IO.
//!
//! A [`Dialog`] holds what a user agent needs to send and accept requests
//! inside a call: the dialog id (Call-ID and both tags), the local and
//! remote CSeq numbers, the local and remote URIs, the remote target (the
//! peer's Contact) and the route set (the Record-Route of the proxies that
//! asked to stay on the path).
//!
//! ```
//! use sip::dialog::Dialog;
//! use sip::{Contact, Method, NameAddr, Request, Response, Transport, Uri, Via, Header};
//!
//! let bob = Uri::sip(Some("bob"), "example.org");
//! let invite = Request::builder(Method::Invite, bob.clone())
//!     .via(Via::new(Transport::Ws, "a.invalid", None, "z9hG4bK1"))
//!     .from(NameAddr::new(Uri::sip(Some("alice"), "example.org")).with_tag("a1"))
//!     .to(NameAddr::new(bob))
//!     .call_id("c1")
//!     .cseq(1)
//!     .build();
//! // What came back through the proxy: its Record-Route and bob's Contact.
//! let ok = Response::builder(&invite, 200)
//!     .to_tag("b1")
//!     .header(Header::RecordRoute(Box::new(NameAddr::new("sip:p.example.org;lr".parse()?))))
//!     .contact(Contact::Addr(NameAddr::new("sip:bob@b.invalid;transport=ws".parse()?)))
//!     .build();
//! let mut dialog = Dialog::new_uac(&invite, &ok)?;
//! let ack = dialog.ack(1, Via::new(Transport::Ws, "a.invalid", None, "z9hG4bK2"));
//! let bye = dialog.request(Method::Bye, Via::new(Transport::Ws, "a.invalid", None, "z9hG4bK3"))?;
//! assert_eq!(ack.uri.to_string(), "sip:bob@b.invalid;transport=ws");
//! assert_eq!(bye.headers.cseq().map(|c| c.seq), Some(2));
//! assert_eq!(bye.headers.routes().next().map(|r| r.uri.to_string()).as_deref(), Some("sip:p.example.org;lr"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Implementation notes: the dialog never draws randomness; tags and
//! branches come from the caller. Strict routing (a first route without
//! `;lr`, §12.2.1.1) is supported for old proxies: the first route becomes
//! the Request-URI and the remote target goes last in the Route list.
//! Requests are built without Contact or body: the caller adds a Contact to
//! target-refresh requests (re-INVITE, UPDATE) and the body it needs.

use crate::builder::DEFAULT_MAX_FORWARDS;
use crate::header::{CSeq, Header, NameAddr, Via, MAX_CSEQ};
use crate::headers::Headers;
use crate::message::{Request, Response};
use crate::method::Method;
use crate::uri::Uri;

#[cfg(test)]
mod tests;

/// Why a dialog cannot be created, or a request refused by it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// A header a dialog needs is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// The To (response) or From (request) header has no tag, so there is
    /// no dialog id.
    #[error("missing {0} tag")]
    MissingTag(&'static str),
    /// A 2xx or a dialog-creating request carries no usable Contact, so
    /// there is no remote target.
    #[error("no Contact to use as the remote target")]
    MissingContact,
    /// The response does not create a dialog (100, or 300 and above).
    #[error("a {0} response does not create a dialog")]
    NotDialogCreating(u16),
    /// An in-dialog request's CSeq is lower than the last one seen
    /// (§12.2.2: answer 500).
    #[error("CSeq {got} is lower than the last remote CSeq {last}")]
    CSeqOutOfOrder {
        /// The request's CSeq number.
        got: u32,
        /// The highest remote CSeq number seen.
        last: u32,
    },
    /// The local CSeq would pass 2**31 - 1.
    #[error("local CSeq space exhausted")]
    CSeqExhausted,
}

impl DialogError {
    /// The response to a request that caused this: 500 for an out-of-order
    /// CSeq (§12.2.2), 400 for a malformed request.
    pub fn status_code(&self) -> u16 {
        match self {
            DialogError::CSeqOutOfOrder { .. } | DialogError::CSeqExhausted => 500,
            _ => 400,
        }
    }
}

/// Identifies a dialog, seen from this side (§12: Call-ID, local tag,
/// remote tag).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag: From on requests we send, To on requests we receive.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// The id of the dialog a received request belongs to: local tag from
    /// To, remote tag from From. `None` if a part is missing (out of dialog).
    pub fn of_received_request(request: &Request) -> Option<DialogId> {
        let h = &request.headers;
        Some(DialogId {
            call_id: h.call_id()?.to_owned(),
            local_tag: h.to()?.tag()?.to_owned(),
            remote_tag: h.from()?.tag()?.to_owned(),
        })
    }

    /// The id of the dialog a received response belongs to: local tag from
    /// From, remote tag from To.
    pub fn of_received_response(response: &Response) -> Option<DialogId> {
        let h = &response.headers;
        Some(DialogId {
            call_id: h.call_id()?.to_owned(),
            local_tag: h.from()?.tag()?.to_owned(),
            remote_tag: h.to()?.tag()?.to_owned(),
        })
    }
}

/// Whether the dialog was created by a provisional or a final response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a 1xx with a To tag; a 2xx confirms it.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// One dialog (§12); see the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    /// The CSeq of the last request we sent in the dialog; `None` for a UAS
    /// that has sent none yet (§12.1.1: "empty").
    local_seq: Option<u32>,
    /// The highest CSeq received from the peer; `None` until one arrives.
    remote_seq: Option<u32>,
    /// Our From/To address, with our tag.
    local: NameAddr,
    /// The peer's address, with its tag.
    remote: NameAddr,
    remote_target: Uri,
    /// Next hop first.
    route_set: Vec<NameAddr>,
}

/// The URI of the first Contact that is an address (not `*`).
fn contact_uri(headers: &Headers) -> Option<Uri> {
    headers.contacts().find_map(|c| c.addr()).map(|a| a.uri.clone())
}

/// A UAC's route set: the Record-Route of the response, last first.
fn reversed_record_routes(headers: &Headers) -> Vec<NameAddr> {
    let mut set: Vec<NameAddr> = headers.record_routes().cloned().collect();
    set.reverse();
    set
}

impl Dialog {
    /// The UAC side (§12.1.2): from the request we sent (INVITE) and a
    /// response to it with a To tag (101-199 gives an early dialog, 2xx a
    /// confirmed one). The route set is the response's Record-Route,
    /// reversed.
    pub fn new_uac(request: &Request, response: &Response) -> Result<Dialog, DialogError> {
        if !(101..300).contains(&response.status) {
            return Err(DialogError::NotDialogCreating(response.status));
        }
        let id = DialogId::of_received_response(response).ok_or_else(|| {
            if response.headers.to().is_some_and(|t| t.tag().is_none()) {
                DialogError::MissingTag("To")
            } else if response.headers.from().is_some_and(|f| f.tag().is_none()) {
                DialogError::MissingTag("From")
            } else {
                DialogError::MissingHeader("From, To or Call-ID")
            }
        })?;
        let confirmed = response.status >= 200;
        // A 1xx without Contact still makes an early dialog (we may need it
        // for nothing more than matching); the 2xx must name the target.
        let remote_target = match contact_uri(&response.headers) {
            Some(uri) => uri,
            None if !confirmed => request.uri.clone(),
            None => return Err(DialogError::MissingContact),
        };
        let local_seq = request.headers.cseq().ok_or(DialogError::MissingHeader("CSeq"))?.seq;
        Ok(Dialog {
            id,
            state: if confirmed { DialogState::Confirmed } else { DialogState::Early },
            local_seq: Some(local_seq),
            remote_seq: None,
            local: request.headers.from().cloned().ok_or(DialogError::MissingHeader("From"))?,
            remote: response.headers.to().cloned().ok_or(DialogError::MissingHeader("To"))?,
            remote_target,
            route_set: reversed_record_routes(&response.headers),
        })
    }

    /// The UAS side (§12.1.1): from the dialog-creating request we received
    /// and the To tag we put in our responses. The route set is the
    /// request's Record-Route, in order. The dialog starts early; call
    /// [`Dialog::confirm`] when sending the 2xx.
    pub fn new_uas(request: &Request, local_tag: &str) -> Result<Dialog, DialogError> {
        let h = &request.headers;
        let from = h.from().ok_or(DialogError::MissingHeader("From"))?;
        let remote_tag = from.tag().ok_or(DialogError::MissingTag("From"))?;
        let call_id = h.call_id().ok_or(DialogError::MissingHeader("Call-ID"))?;
        let remote_seq = h.cseq().ok_or(DialogError::MissingHeader("CSeq"))?.seq;
        let to = h.to().ok_or(DialogError::MissingHeader("To"))?;
        Ok(Dialog {
            id: DialogId {
                call_id: call_id.to_owned(),
                local_tag: local_tag.to_owned(),
                remote_tag: remote_tag.to_owned(),
            },
            state: DialogState::Early,
            local_seq: None,
            remote_seq: Some(remote_seq),
            local: to.clone().with_tag(local_tag),
            remote: from.clone(),
            remote_target: contact_uri(h).ok_or(DialogError::MissingContact)?,
            route_set: h.record_routes().cloned().collect(),
        })
    }

    /// The dialog id.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Early or confirmed.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Marks a UAS dialog confirmed (we sent the 2xx).
    pub fn confirm(&mut self) {
        self.state = DialogState::Confirmed;
    }

    /// The peer's Contact URI: where in-dialog requests go.
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// The route set, next hop first.
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }

    /// Our address with our tag (From of the requests we send).
    pub fn local(&self) -> &NameAddr {
        &self.local
    }

    /// The peer's address with its tag (To of the requests we send).
    pub fn remote(&self) -> &NameAddr {
        &self.remote
    }

    /// The CSeq of the last request we sent, if any.
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// The highest CSeq received from the peer, if any.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Takes in a response to a request we sent in this dialog (or a later
    /// response to the INVITE that created it). A 2xx to an INVITE confirms
    /// an early dialog and recomputes its route set from the 2xx (§13.2.2.4);
    /// a 2xx to a target-refresh request (INVITE, UPDATE) takes its Contact
    /// as the new remote target (§12.2.1.2).
    pub fn handle_response(&mut self, response: &Response) {
        if !(200..300).contains(&response.status) {
            return;
        }
        let Some(cseq) = response.headers.cseq() else { return };
        if !matches!(cseq.method, Method::Invite | Method::Update) {
            return;
        }
        if cseq.method == Method::Invite && self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
            self.route_set = reversed_record_routes(&response.headers);
            if let Some(to) = response.headers.to() {
                self.remote = to.clone();
            }
        }
        if let Some(target) = contact_uri(&response.headers) {
            self.remote_target = target;
        }
    }

    /// Checks a request the peer sent in this dialog (§12.2.2): its CSeq
    /// must not be lower than the last one (ACK and CANCEL reuse the
    /// INVITE's number and are not counted). A re-INVITE or UPDATE with a
    /// Contact refreshes the remote target.
    pub fn handle_request(&mut self, request: &Request) -> Result<(), DialogError> {
        let seq = request.headers.cseq().ok_or(DialogError::MissingHeader("CSeq"))?.seq;
        if matches!(request.method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        if let Some(last) = self.remote_seq {
            if seq < last {
                return Err(DialogError::CSeqOutOfOrder { got: seq, last });
            }
        }
        self.remote_seq = Some(seq);
        if matches!(request.method, Method::Invite | Method::Update) {
            if let Some(target) = contact_uri(&request.headers) {
                self.remote_target = target;
            }
        }
        Ok(())
    }

    /// A new request in the dialog (§12.2.1.1) with the next local CSeq,
    /// `via` on top, Request-URI and Route from the remote target and the
    /// route set. No Contact and no body: the caller adds what it needs.
    /// For ACK use [`Dialog::ack`], and CANCEL is built from the INVITE.
    pub fn request(&mut self, method: Method, via: Via) -> Result<Request, DialogError> {
        let seq = match self.local_seq {
            // §12.1.1 leaves a UAS's first number open; 1 is as good as any.
            None => 1,
            Some(seq) if seq >= MAX_CSEQ => return Err(DialogError::CSeqExhausted),
            Some(seq) => seq + 1,
        };
        self.local_seq = Some(seq);
        Ok(self.build(method, seq, via))
    }

    /// The ACK for a 2xx to the INVITE whose CSeq number was `invite_seq`
    /// (§13.2.2.4): same routing as any in-dialog request, CSeq number of
    /// the INVITE, a new branch in `via`. Does not use up a CSeq number.
    pub fn ack(&self, invite_seq: u32, via: Via) -> Request {
        self.build(Method::Ack, invite_seq, via)
    }

    fn build(&self, method: Method, seq: u32, via: Via) -> Request {
        let (uri, routes) = self.request_uri_and_routes();
        let mut request = Request::new(method.clone(), uri);
        let h = &mut request.headers;
        h.push(via.into());
        h.extend(routes.into_iter().map(|r| Header::Route(Box::new(r))));
        h.push(Header::MaxForwards(DEFAULT_MAX_FORWARDS));
        h.push(Header::From(Box::new(self.local.clone())));
        h.push(Header::To(Box::new(self.remote.clone())));
        h.push(Header::CallId(self.id.call_id.clone()));
        h.push(Header::CSeq(CSeq { seq, method }));
        request
    }

    /// §12.2.1.1: loose routing keeps the remote target as Request-URI; a
    /// strict router (no `lr`) first in the set takes its place and the
    /// target goes last.
    fn request_uri_and_routes(&self) -> (Uri, Vec<NameAddr>) {
        let Some(first) = self.route_set.first() else {
            return (self.remote_target.clone(), Vec::new());
        };
        if first.uri.as_sip().is_none_or(|u| u.is_loose_route()) {
            return (self.remote_target.clone(), self.route_set.clone());
        }
        let mut uri = first.uri.clone();
        // §12.2.1.1: parameters not allowed in a Request-URI are stripped;
        // for a SIP URI that means URI headers.
        if let Some(sip) = uri.as_sip_mut() {
            sip.headers.clear();
        }
        let mut routes: Vec<NameAddr> = self.route_set[1..].to_vec();
        routes.push(NameAddr::new(self.remote_target.clone()));
        (uri, routes)
    }
}
