//! A small SIP user agent for tests, over WebSocket (like a browser) or
//! UDP (like a phone), built on the `sip` crate's messages and dialogs.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sip::dialog::Dialog;
use sip::{Contact, ContentType, Header, Message, Method, NameAddr, Request, Response, Transport, Uri, Via};
use tokio::net::{TcpStream, UdpSocket};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const DOMAIN: &str = "example.org";
const WAIT: Duration = Duration::from_secs(10);

enum Link {
    Ws(Box<WebSocketStream<MaybeTlsStream<TcpStream>>>),
    Udp { socket: UdpSocket, server: std::net::SocketAddr },
}

/// One test user agent.
pub struct Ua {
    pub user: String,
    link: Link,
    /// Host written in Via (and in the contact for WS).
    via_host: String,
    via_port: Option<u16>,
    transport: Transport,
    pub contact: NameAddr,
    counter: u64,
    /// Messages received but not yet asked for.
    backlog: VecDeque<Message>,
}

impl Ua {
    /// A browser-like UA on the super-node's `/sip` WebSocket.
    pub async fn ws(http: &str, user: &str) -> Ua {
        let mut req = format!("ws://{http}/sip").into_client_request().expect("ws url");
        req.headers_mut().insert("Sec-WebSocket-Protocol", "sip".parse().expect("header value"));
        let (ws, resp) = tokio_tungstenite::connect_async(req).await.expect("WebSocket to /sip");
        assert_eq!(resp.headers().get("sec-websocket-protocol").map(|v| v.as_bytes()), Some(&b"sip"[..]));
        let host = format!("{user}-{}.invalid", std::process::id());
        let contact: Uri = format!("sip:{user}@{host};transport=ws").parse().expect("contact uri");
        Ua {
            user: user.to_owned(),
            link: Link::Ws(Box::new(ws)),
            via_host: host,
            via_port: None,
            transport: Transport::Ws,
            contact: NameAddr::new(contact),
            counter: 0,
            backlog: VecDeque::new(),
        }
    }

    /// A phone-like UA on the super-node's UDP port.
    pub async fn udp(sip: &str, user: &str) -> Ua {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let local = socket.local_addr().expect("bound");
        let contact: Uri = format!("sip:{user}@{local}").parse().expect("contact uri");
        Ua {
            user: user.to_owned(),
            link: Link::Udp { socket, server: sip.parse().expect("sip addr") },
            via_host: local.ip().to_string(),
            via_port: Some(local.port()),
            transport: Transport::Udp,
            contact: NameAddr::new(contact),
            counter: 0,
            backlog: VecDeque::new(),
        }
    }

    pub fn aor(&self) -> Uri {
        Uri::sip(Some(&self.user), DOMAIN)
    }

    fn unique(&mut self) -> String {
        self.counter += 1;
        format!("{}{}x{}", self.user, self.counter, std::process::id())
    }

    /// A Via with a fresh branch.
    pub fn via(&mut self) -> Via {
        let branch = sip::rfc3261_branch(&self.unique());
        let mut v = Via::new(self.transport.clone(), self.via_host.clone(), self.via_port, &branch);
        if self.transport == Transport::Udp {
            v.params.set("rport", None);
        }
        v
    }

    /// An out-of-dialog request from this UA to `to`.
    pub fn request(&mut self, method: Method, to: Uri) -> Request {
        let (tag, call_id, via) = (self.unique(), self.unique(), self.via());
        let uri = if method == Method::Register { Uri::sip(None, DOMAIN) } else { to.clone() };
        Request::builder(method, uri)
            .via(via)
            .from(NameAddr::new(self.aor()).with_tag(&tag))
            .to(NameAddr::new(to))
            .call_id(call_id)
            .cseq(1)
            .contact(Contact::Addr(self.contact.clone()))
            .build()
    }

    /// An INVITE with a (fake) SDP offer.
    pub fn invite(&mut self, to: Uri) -> Request {
        let mut r = self.request(Method::Invite, to);
        r.headers.push(Header::from(ContentType::sdp()));
        r.body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n".to_vec();
        r
    }

    pub async fn send(&mut self, msg: impl Into<Message>) {
        let bytes = msg.into().to_bytes();
        self.send_raw(&bytes).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        match &mut self.link {
            Link::Ws(ws) => ws.send(WsMessage::Text(String::from_utf8_lossy(bytes).into_owned().into())).await.expect("ws send"),
            Link::Udp { socket, server } => {
                socket.send_to(bytes, *server).await.expect("udp send");
            }
        }
    }

    /// The next message, or None if nothing comes within `limit`.
    pub async fn recv_within(&mut self, limit: Duration) -> Option<Message> {
        if let Some(m) = self.backlog.pop_front() {
            return Some(m);
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let bytes = match &mut self.link {
                Link::Ws(ws) => match tokio::time::timeout_at(deadline, ws.next()).await {
                    Err(_) => return None,
                    Ok(Some(Ok(WsMessage::Text(t)))) => t.as_bytes().to_vec(),
                    Ok(Some(Ok(WsMessage::Binary(b)))) => b.to_vec(),
                    Ok(Some(Ok(_))) => continue,
                    Ok(other) => panic!("{}: WebSocket ended: {other:?}", self.user),
                },
                Link::Udp { socket, .. } => {
                    let mut buf = vec![0u8; 65536];
                    match tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await {
                        Err(_) => return None,
                        Ok(r) => {
                            let (n, _) = r.expect("udp recv");
                            buf.truncate(n);
                            buf
                        }
                    }
                }
            };
            return Some(sip::parse_datagram(&bytes, &sip::Limits::default()).unwrap_or_else(|e| {
                panic!("{} got unparsable SIP ({e}):\n{}", self.user, String::from_utf8_lossy(&bytes))
            }));
        }
    }

    pub async fn recv(&mut self) -> Message {
        let user = self.user.clone();
        self.recv_within(WAIT).await.unwrap_or_else(|| panic!("{user}: nothing received in {WAIT:?}"))
    }

    /// The next final response to `method` (provisional ones skipped,
    /// other messages kept for later).
    pub async fn final_response(&mut self, method: Method) -> Response {
        self.response_where(|r| r.status >= 200 && r.headers.cseq().is_some_and(|c| c.method == method)).await
    }

    /// The next response satisfying `pred`; others are skipped, requests kept.
    pub async fn response_where(&mut self, pred: impl Fn(&Response) -> bool) -> Response {
        let mut kept = Vec::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        let found = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv_within(left).await {
                Some(Message::Response(r)) if pred(&r) => break r,
                Some(Message::Response(_)) => {}
                Some(m) => kept.push(m),
                None => panic!("{}: no matching response within {WAIT:?}", self.user),
            }
        };
        self.backlog.extend(kept);
        found
    }

    /// The next request with `method`; other messages are kept for later.
    pub async fn request_of(&mut self, method: Method) -> Request {
        let mut kept = Vec::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        let found = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv_within(left).await {
                Some(Message::Request(r)) if r.method == method => break r,
                Some(m) => kept.push(m),
                None => panic!("{}: no {method} within {WAIT:?}", self.user),
            }
        };
        self.backlog.extend(kept);
        found
    }

    /// REGISTER with `expires`; returns the final response.
    pub async fn register(&mut self, expires: u32) -> Response {
        let mut r = self.request(Method::Register, self.aor());
        r.headers.push(Header::Expires(expires));
        self.send(r).await;
        self.final_response(Method::Register).await
    }

    /// A response to `req` from this UA (with a Contact for 2xx to INVITE).
    pub fn answer(&self, req: &Request, status: u16, to_tag: &str) -> Response {
        let mut b = Response::builder(req, status).to_tag(to_tag).record_route_from(req);
        if req.method == Method::Invite && (200..300).contains(&status) {
            b = b.contact(Contact::Addr(self.contact.clone())).body(ContentType::sdp(), b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n".to_vec());
        }
        b.build()
    }

    /// A dialog as the caller, from the INVITE and its 2xx.
    pub fn uac_dialog(invite: &Request, ok: &Response) -> Dialog {
        Dialog::new_uac(invite, ok).expect("dialog from 2xx")
    }

    /// A dialog as the callee, from the INVITE and the tag we answered with.
    pub fn uas_dialog(invite: &Request, tag: &str) -> Dialog {
        Dialog::new_uas(invite, tag).expect("dialog from INVITE")
    }

    pub async fn close(self) {
        if let Link::Ws(mut ws) = self.link {
            let _ = SinkExt::close(&mut ws).await;
        }
    }
}
