//! The ring driver: one tokio task that owns the [`chord::Node`], feeds it
//! link frames, link failures and timer expiries, and carries out what it
//! asks for. Everything else talks to it through a [`RingHandle`].

use std::collections::HashMap;
use std::time::Duration;

use chord::{Event, Node, NodeAddr, OpError, OpId, OpOutcome};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::links::{LinkCounters, LinkEvent, LinkStatus, Links, SendError};
use super::payload::RingPayload;

/// What the ring side tells the SIP side.
#[derive(Debug)]
pub enum RingSip {
    /// A SIP message relayed by the super-node at `from`.
    Message { from: NodeAddr, bytes: Vec<u8> },
    /// The link to `addr` went down: SIP sent there may be lost.
    LinkDown { addr: String },
}

/// Result of a ring operation, with the lookup hops it took.
pub type OpReply = Result<(OpOutcome, u8), OpError>;

/// Requests to the ring driver.
enum Command {
    Op { kind: OpKind, reply: oneshot::Sender<OpReply> },
    Status { reply: oneshot::Sender<chord::Status> },
    Leave { reply: oneshot::Sender<LeaveReport> },
}

enum OpKind {
    Put { key: chord::Id, sub_key: Vec<u8>, value: Vec<u8>, version: u64, ttl_ms: u64 },
    Delete { key: chord::Id, sub_key: Vec<u8>, version: u64, ttl_ms: u64 },
    Get { key: chord::Id, prefix: Option<Vec<u8>> },
    Lookup { key: chord::Id },
}

/// How a graceful leave went.
#[derive(Debug, Clone, Serialize)]
pub struct LeaveReport {
    pub records_handed_off: usize,
    pub acknowledged: bool,
}

/// Why a ring call failed before the ring could answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// The operation itself failed (time-out, stale write, full key...).
    #[error(transparent)]
    Op(#[from] OpError),
    /// The driver's command queue is full: the node is overloaded.
    #[error("ring driver overloaded")]
    Overloaded,
    /// The driver has stopped.
    #[error("ring driver stopped")]
    Stopped,
}

/// A cheap, cloneable way to use the ring.
#[derive(Clone)]
pub struct RingHandle {
    commands: mpsc::Sender<Command>,
    links: Links<RingPayload>,
    me: chord::NodeRef,
}

impl RingHandle {
    /// This node's id and advertised ring address.
    pub fn me(&self) -> &chord::NodeRef {
        &self.me
    }

    /// The ring links (also used to relay SIP to other super-nodes).
    pub fn links(&self) -> &Links<RingPayload> {
        &self.links
    }

    /// Stores `value` under `key`/`sub_key` unless a newer version is there.
    pub async fn put(&self, key: chord::Id, sub_key: Vec<u8>, value: Vec<u8>, version: u64, ttl_ms: u64) -> Result<(OpOutcome, u8), RingError> {
        self.op(OpKind::Put { key, sub_key, value, version, ttl_ms }).await
    }

    /// Deletes `key`/`sub_key` (a versioned tombstone kept for `ttl_ms`).
    pub async fn delete(&self, key: chord::Id, sub_key: Vec<u8>, version: u64, ttl_ms: u64) -> Result<(OpOutcome, u8), RingError> {
        self.op(OpKind::Delete { key, sub_key, version, ttl_ms }).await
    }

    /// Reads the live values under `key`, optionally only sub-keys with `prefix`.
    pub async fn get(&self, key: chord::Id, prefix: Option<Vec<u8>>) -> Result<(OpOutcome, u8), RingError> {
        self.op(OpKind::Get { key, prefix }).await
    }

    /// Finds the node responsible for `key`.
    pub async fn lookup(&self, key: chord::Id) -> Result<(OpOutcome, u8), RingError> {
        self.op(OpKind::Lookup { key }).await
    }

    /// A snapshot of the ring state.
    pub async fn status(&self) -> Result<chord::Status, RingError> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::Status { reply }).await.map_err(|_| RingError::Stopped)?;
        rx.await.map_err(|_| RingError::Stopped)
    }

    /// Hands stored values to the successor and leaves the ring.
    pub async fn leave(&self) -> Result<LeaveReport, RingError> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::Leave { reply }).await.map_err(|_| RingError::Stopped)?;
        rx.await.map_err(|_| RingError::Stopped)
    }

    async fn op(&self, kind: OpKind) -> Result<(OpOutcome, u8), RingError> {
        let (reply, rx) = oneshot::channel();
        // try_send: a full queue means the node is past its capacity, and the
        // caller (a SIP transaction) should answer 503 rather than wait.
        self.commands.try_send(Command::Op { kind, reply }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => RingError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => RingError::Stopped,
        })?;
        Ok(rx.await.map_err(|_| RingError::Stopped)??)
    }
}

/// Ring status for `GET /api/ring`.
#[derive(Serialize)]
pub struct RingReport<'a> {
    #[serde(flatten)]
    pub node: chord::Status,
    pub links: Vec<LinkStatus>,
    pub link_counters: &'a LinkCounters,
}

/// The running driver's inputs.
pub struct Driver {
    node: Node,
    links: Links<RingPayload>,
    commands: mpsc::Receiver<Command>,
    link_events: mpsc::Receiver<LinkEvent<RingPayload>>,
    /// Relayed SIP and link failures go here.
    sip_out: mpsc::Sender<RingSip>,
    epoch: Instant,
    pending: HashMap<OpId, oneshot::Sender<OpReply>>,
    leave_waiters: Vec<oneshot::Sender<LeaveReport>>,
}

/// Bound on queued commands from the SIP side.
const COMMAND_QUEUE_LEN: usize = 4096;

impl Driver {
    /// Creates the driver and its handle. `link_events` are the frames and
    /// failures reported by `links`.
    pub fn new(
        node: Node,
        links: Links<RingPayload>,
        link_events: mpsc::Receiver<LinkEvent<RingPayload>>,
        sip_out: mpsc::Sender<RingSip>,
    ) -> (Driver, RingHandle) {
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE_LEN);
        let handle = RingHandle { commands: tx, links: links.clone(), me: node.me().clone() };
        let driver = Driver {
            node,
            links,
            commands: rx,
            link_events,
            sip_out,
            epoch: Instant::now(),
            pending: HashMap::new(),
            leave_waiters: Vec::new(),
        };
        (driver, handle)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Starts the node (`join`: any member's ring address, or None for a new
    /// ring) and runs until every handle is dropped.
    pub async fn run(mut self, join: Option<NodeAddr>) {
        let now = self.now_ms();
        self.node.handle_start(now, join);
        self.flush();
        loop {
            let deadline = self.node.poll_timeout().map(|t| self.epoch + Duration::from_millis(t));
            tokio::select! {
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                ev = self.link_events.recv() => match ev {
                    Some(ev) => self.on_link_event(ev).await,
                    None => break,
                },
                () = sleep_until_opt(deadline) => {
                    let now = self.now_ms();
                    self.node.handle_timeout(now);
                }
            }
            self.flush();
        }
    }

    fn on_command(&mut self, cmd: Command) {
        let now = self.now_ms();
        match cmd {
            Command::Op { kind, reply } => {
                let op = match kind {
                    OpKind::Put { key, sub_key, value, version, ttl_ms } => self.node.put(now, key, sub_key, value, version, ttl_ms),
                    OpKind::Delete { key, sub_key, version, ttl_ms } => self.node.delete(now, key, sub_key, version, ttl_ms),
                    OpKind::Get { key, prefix } => self.node.get(now, key, prefix),
                    OpKind::Lookup { key } => self.node.lookup(now, key),
                };
                self.pending.insert(op, reply);
            }
            Command::Status { reply } => {
                let _ = reply.send(self.node.status());
            }
            Command::Leave { reply } => {
                tracing::info!("leaving the ring: handing stored values to the successor");
                self.leave_waiters.push(reply);
                self.node.leave(now);
            }
        }
    }

    async fn on_link_event(&mut self, ev: LinkEvent<RingPayload>) {
        let now = self.now_ms();
        match ev {
            LinkEvent::Frame { from, msg } => {
                let Ok(from) = NodeAddr::new(from) else { return };
                match msg {
                    RingPayload::Chord(msg) => self.node.handle_message(now, &from, msg),
                    RingPayload::Sip(bytes) => {
                        // Waiting here pushes back on the link, like TCP would.
                        let _ = self.sip_out.send(RingSip::Message { from, bytes }).await;
                    }
                }
            }
            LinkEvent::Down { addr, reason } => {
                tracing::debug!("ring link to {addr} down: {reason}");
                if let Ok(node_addr) = NodeAddr::new(addr.clone()) {
                    self.node.handle_link_down(now, &node_addr);
                }
                // Not waiting: a full SIP queue must not stall the ring.
                let _ = self.sip_out.try_send(RingSip::LinkDown { addr });
            }
        }
    }

    /// Sends what the node queued and delivers its events. A send that fails
    /// at once (address in backoff, too many links) is a link failure for
    /// the node, which may queue more sends: loop until quiet.
    fn flush(&mut self) {
        for _round in 0..64 {
            let mut failed: Vec<NodeAddr> = Vec::new();
            while let Some(t) = self.node.poll_transmit() {
                match self.links.send(t.to.as_str(), RingPayload::Chord(t.msg)) {
                    Ok(()) | Err(SendError::QueueFull) => {}
                    Err(SendError::Backoff | SendError::TooManyLinks | SendError::Closed) => {
                        if !failed.contains(&t.to) {
                            failed.push(t.to);
                        }
                    }
                }
            }
            while let Some(ev) = self.node.poll_event() {
                self.on_node_event(ev);
            }
            if failed.is_empty() {
                return;
            }
            let now = self.now_ms();
            for addr in failed {
                self.node.handle_link_down(now, &addr);
            }
        }
    }

    fn on_node_event(&mut self, ev: Event) {
        match ev {
            Event::OpDone { op, hops, result } => {
                if let Some(reply) = self.pending.remove(&op) {
                    let _ = reply.send(result.map(|outcome| (outcome, hops)));
                }
            }
            Event::Joined { successor } => tracing::info!("joined the ring; successor {} at {}", successor.id, successor.addr),
            Event::JoinFailed { attempt } => tracing::warn!("joining the ring failed (attempt {attempt}); retrying"),
            Event::StableChanged { stable } => tracing::info!("ring {}", if stable { "stable" } else { "not stable" }),
            Event::LeaveDone { records_handed_off, acknowledged } => {
                tracing::info!("left the ring: {records_handed_off} records handed off, acknowledged: {acknowledged}");
                for w in self.leave_waiters.drain(..) {
                    let _ = w.send(LeaveReport { records_handed_off, acknowledged });
                }
            }
        }
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
