//! Instant messages (RFC 3428 MESSAGE), outside any dialog.

use sip::{ContentType, Method, NameAddr, Request, Response};

use super::event::{Event, MessageHandle, UaError};
use super::txn::Purpose;
use super::UserAgent;

impl UserAgent {
    /// Sends `text` to `to`; the outcome comes as [`Event::MessageStatus`].
    pub fn send_message(&mut self, now_ms: u64, to: &str, text: &str) -> Result<MessageHandle, UaError> {
        if !self.io.connected {
            return Err(UaError::NotConnected);
        }
        let target = self.local.target(to)?;
        let mut content_type = ContentType::new("text/plain");
        content_type.params.set("charset", Some("UTF-8"));
        let mut request = Request::builder(Method::Message, target.clone())
            .via(self.local.via())
            .from(self.local.from())
            .to(NameAddr::new(target))
            .call_id(self.local.call_id())
            .cseq(1)
            .body(content_type, text.as_bytes().to_vec())
            .build();
        if let Some(ua) = self.local.user_agent() {
            request.headers.push(ua);
        }
        let id = self.next_message;
        self.next_message += 1;
        self.send_request(now_ms, request, Purpose::Message(id));
        self.pump(now_ms);
        Ok(id)
    }

    pub(super) fn handle_message(&mut self, now_ms: u64, request: &Request) {
        let is_text = request.headers.content_type().is_none_or(|ct| ct.media_type.starts_with("text/"));
        if !is_text {
            let accept = sip::Header::other("Accept", "text/plain").ok();
            let mut response = Response::builder(request, 415).build();
            response.headers.extend(accept);
            self.respond(now_ms, response);
            return;
        }
        self.respond(now_ms, Response::builder(request, 200).build());
        let from = request.headers.from();
        self.io.emit(Event::Message {
            from: from.map(|f| f.uri.to_string()).unwrap_or_default(),
            display_name: from.and_then(|f| f.display_name.clone()),
            text: String::from_utf8_lossy(&request.body).into_owned(),
        });
    }
}
