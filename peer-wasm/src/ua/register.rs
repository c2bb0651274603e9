//! Registration (RFC 3261 §10, RFC 5626 instance id): register, refresh
//! before expiry, register again after a reconnect, unregister.

use sip::{Header, Method, NameAddr, Request, Response, Uri};

use super::event::{Event, RegistrationState, UaError};
use sip::rng::Rng;
use super::txn::Purpose;
use super::UserAgent;

/// Retry after a failed registration: 2 s, doubling, at most a minute.
const RETRY_BASE_MS: u64 = 2_000;
const RETRY_MAX_MS: u64 = 60_000;

/// The registration's state.
#[derive(Debug)]
pub struct Registration {
    /// One Call-ID for every REGISTER of this agent (RFC 3261 §10.2).
    call_id: String,
    cseq: u32,
    /// The lifetime we ask for (raised by a 423's Min-Expires).
    expires_secs: u32,
    /// The page wants to be registered.
    wanted: bool,
    registered: bool,
    /// CSeq of the last REGISTER sent, and whether it removed the binding.
    last_sent: Option<(u32, bool)>,
    /// When to refresh, or retry after a failure.
    refresh_at_ms: Option<u64>,
    failures: u32,
}

impl Registration {
    pub fn new(rng: &mut Rng, expires_secs: u32) -> Registration {
        Registration {
            call_id: format!("{}@reg.invalid", rng.token(20)),
            cseq: 0,
            expires_secs,
            wanted: false,
            registered: false,
            last_sent: None,
            refresh_at_ms: None,
            failures: 0,
        }
    }

    pub fn refresh_due(&self, now_ms: u64) -> bool {
        self.wanted && self.refresh_at_ms.is_some_and(|at| at <= now_ms)
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        self.refresh_at_ms.filter(|_| self.wanted)
    }
}

impl UserAgent {
    /// Registers `aor` (`sip:alice@example.org` or `alice@example.org`)
    /// now or as soon as a connection opens, and keeps it registered.
    pub fn register(&mut self, now_ms: u64, aor: &str, display_name: Option<&str>) -> Result<(), UaError> {
        let uri = self.local.target(aor)?;
        let mut addr = NameAddr::new(uri);
        addr.display_name = display_name.filter(|n| !n.trim().is_empty()).map(|n| n.trim().to_owned());
        if self.local.aor.as_ref().is_some_and(|old| old.uri != addr.uri) && self.registration.registered {
            // A new address: drop the old binding first.
            self.send_register(now_ms, 0);
            self.registration.registered = false;
        }
        self.local.aor = Some(addr);
        self.registration.wanted = true;
        self.registration.failures = 0;
        self.refresh_registration(now_ms);
        self.pump(now_ms);
        Ok(())
    }

    /// Removes our binding (Expires: 0) and stops refreshing it.
    pub fn unregister(&mut self, now_ms: u64) {
        let was = std::mem::replace(&mut self.registration.wanted, false);
        self.registration.refresh_at_ms = None;
        if was && self.io.connected {
            self.send_register(now_ms, 0);
            self.pump(now_ms);
        }
    }

    /// Sends a REGISTER if one is wanted and a connection is open.
    pub(super) fn refresh_registration(&mut self, now_ms: u64) {
        self.registration.refresh_at_ms = None;
        if self.registration.wanted && self.io.connected {
            let expires = self.registration.expires_secs;
            self.send_register(now_ms, expires);
        }
    }

    fn send_register(&mut self, now_ms: u64, expires_secs: u32) {
        let Some(aor) = self.local.aor.clone() else { return };
        let Some(domain) = aor.uri.as_sip().map(|u| u.host.clone()) else { return };
        let reg = &mut self.registration;
        reg.cseq += 1;
        reg.last_sent = Some((reg.cseq, expires_secs == 0));
        let mut request = Request::builder(Method::Register, Uri::sip(None, &domain))
            .via(self.local.via())
            .from(aor.clone().with_tag(&self.local.tag()))
            .to(NameAddr { params: Default::default(), ..aor })
            .call_id(reg.call_id.clone())
            .cseq(reg.cseq)
            .contact(self.local.contact())
            .expires(expires_secs)
            .header(Header::Supported(vec!["outbound".into(), "path".into()]))
            .build();
        if let Some(ua) = self.local.user_agent() {
            request.headers.push(ua);
        }
        self.send_request(now_ms, request, Purpose::Register);
    }

    pub(super) fn handle_register_response(&mut self, now_ms: u64, response: &Response) {
        let seq = response.headers.cseq().map(|c| c.seq);
        let Some((last_seq, removal)) = self.registration.last_sent else { return };
        if seq != Some(last_seq) {
            return; // an answer to a REGISTER since superseded
        }
        let aor = self.aor_string();
        match response.status {
            200..=299 if removal || !self.registration.wanted => {
                self.registration.registered = false;
                self.emit_registration(RegistrationState::Unregistered, aor, 0, response);
            }
            200..=299 => {
                let granted = self.granted_expires(response);
                let reg = &mut self.registration;
                reg.registered = true;
                reg.failures = 0;
                // Refresh at three quarters of the lifetime, at least 1 s on.
                reg.refresh_at_ms = Some(now_ms + (u64::from(granted) * 750).max(1_000));
                self.emit_registration(RegistrationState::Registered, aor, granted, response);
            }
            423 => {
                let min = response.headers.other("Min-Expires").next().and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min) if min > self.registration.expires_secs => {
                        self.registration.expires_secs = min;
                        self.refresh_registration(now_ms);
                    }
                    _ => self.registration_failed(now_ms, response.status, &response.reason),
                }
            }
            _ => self.registration_failed(now_ms, response.status, &response.reason),
        }
    }

    /// The lifetime the registrar granted our contact: its `expires`
    /// parameter, else the Expires header, else what we asked for.
    fn granted_expires(&self, response: &Response) -> u32 {
        let ours = response.headers.contacts().find(|c| {
            c.sip_instance().as_deref() == Some(self.local.instance())
                || c.addr().is_some_and(|a| &a.uri == self.local.contact_uri())
        });
        ours.and_then(|c| c.expires_secs())
            .or_else(|| response.headers.expires())
            .unwrap_or(self.registration.expires_secs)
    }

    /// A REGISTER failed: tell the page and retry with backoff.
    pub(super) fn registration_failed(&mut self, now_ms: u64, code: u16, reason: &str) {
        let reg = &mut self.registration;
        reg.registered = false;
        if !reg.wanted {
            return;
        }
        let delay = RETRY_BASE_MS.saturating_mul(1 << reg.failures.min(10)).min(RETRY_MAX_MS);
        reg.failures = reg.failures.saturating_add(1);
        reg.refresh_at_ms = Some(now_ms + delay);
        let aor = self.aor_string();
        self.io.emit(Event::Registration {
            state: RegistrationState::Failed,
            aor,
            expires_secs: 0,
            code,
            reason: reason.to_owned(),
        });
    }

    /// The connection dropped: the super-node removed our binding.
    pub(super) fn registration_lost(&mut self) {
        self.registration.refresh_at_ms = None;
        if std::mem::replace(&mut self.registration.registered, false) {
            let aor = self.aor_string();
            self.io.emit(Event::Registration {
                state: RegistrationState::Unregistered,
                aor,
                expires_secs: 0,
                code: 0,
                reason: "connection lost".into(),
            });
        }
    }

    fn aor_string(&self) -> String {
        self.local.aor.as_ref().map(|a| a.uri.to_string()).unwrap_or_default()
    }

    fn emit_registration(&mut self, state: RegistrationState, aor: String, expires_secs: u32, response: &Response) {
        self.io.emit(Event::Registration {
            state,
            aor,
            expires_secs,
            code: response.status,
            reason: response.reason.clone(),
        });
    }
}
