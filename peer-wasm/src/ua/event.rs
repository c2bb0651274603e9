//! What the user agent reports to its driver, and why a command can fail.

use sip::dialog::DialogError;

/// Identifies a call to the page: small integers, never reused in a session.
pub type CallHandle = u32;

/// Identifies an outgoing MESSAGE so its outcome can be matched.
pub type MessageHandle = u32;

/// Where a call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallPhase {
    /// Outgoing, waiting for the driver's SDP offer (media, ICE gathering).
    Preparing,
    /// Outgoing, INVITE sent.
    Calling,
    /// Outgoing, the callee is alerted (180/183).
    Ringing,
    /// Incoming, waiting for the page to answer or decline.
    Incoming,
    /// Answered (2xx sent or received).
    Connected,
    /// Over; the handle is forgotten after this event.
    Ended,
}

impl CallPhase {
    /// The name the page sees.
    pub fn as_str(self) -> &'static str {
        match self {
            CallPhase::Preparing => "preparing",
            CallPhase::Calling => "calling",
            CallPhase::Ringing => "ringing",
            CallPhase::Incoming => "incoming",
            CallPhase::Connected => "connected",
            CallPhase::Ended => "ended",
        }
    }
}

/// Where the registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationState {
    /// The registrar accepted our binding.
    Registered,
    /// No binding (never registered, unregistered, or the connection dropped).
    Unregistered,
    /// The registrar refused, or did not answer.
    Failed,
}

impl RegistrationState {
    /// The name the page sees.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationState::Registered => "registered",
            RegistrationState::Unregistered => "unregistered",
            RegistrationState::Failed => "failed",
        }
    }
}

/// An output of the user agent (see [`crate::ua::UserAgent::poll_event`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The registration changed.
    Registration {
        /// The new state.
        state: RegistrationState,
        /// Our address of record.
        aor: String,
        /// Granted lifetime (registered), else 0.
        expires_secs: u32,
        /// The SIP status that caused it (0 when local, e.g. connection lost).
        code: u16,
        /// Its reason phrase or a local explanation.
        reason: String,
    },
    /// A new incoming call; answer with `accept` or `reject`.
    Incoming {
        /// The call.
        call: CallHandle,
        /// The caller's URI (From).
        from: String,
        /// The caller's display name, if given.
        display_name: Option<String>,
        /// The SDP offer.
        sdp: String,
        /// The offer has an active video stream.
        video: bool,
    },
    /// A call changed phase.
    Call {
        /// The call.
        call: CallHandle,
        /// Its new phase.
        phase: CallPhase,
        /// The SIP status behind it (180, 200, 486 ...; 0 when local).
        code: u16,
        /// Its reason phrase or a local explanation.
        reason: String,
    },
    /// The SDP answer to our offer: the driver applies it.
    RemoteAnswer {
        /// The call.
        call: CallHandle,
        /// The SDP.
        sdp: String,
    },
    /// A MESSAGE arrived.
    Message {
        /// The sender's URI.
        from: String,
        /// The sender's display name, if given.
        display_name: Option<String>,
        /// The body as text.
        text: String,
    },
    /// The outcome of a MESSAGE we sent.
    MessageStatus {
        /// The message.
        message: MessageHandle,
        /// Final status (200 and 202 are success; 408 when nobody answered).
        code: u16,
        /// Reason phrase.
        reason: String,
    },
}

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UaError {
    /// No WebSocket to a super-node is open.
    #[error("not connected to a super-node")]
    NotConnected,
    /// The address is not a SIP URI, `user@host`, or a user name with a
    /// registered domain to complete it.
    #[error("not a SIP address: {0:?}")]
    BadAddress(String),
    /// No call has this handle (it ended, or never existed).
    #[error("no call {0}")]
    NoSuchCall(CallHandle),
    /// The call is not in a phase where this command applies.
    #[error("call {call} is {phase}, cannot {action}")]
    WrongPhase {
        /// The call.
        call: CallHandle,
        /// Its phase.
        phase: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// Too many calls at once.
    #[error("too many calls")]
    TooManyCalls,
    /// The status code given to `reject` is not 300-699.
    #[error("{0} is not a final error status")]
    BadStatus(u16),
    /// The dialog refused the request.
    #[error(transparent)]
    Dialog(#[from] DialogError),
}
