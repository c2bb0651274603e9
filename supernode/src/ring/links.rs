//! Ring links: WebSockets between super-nodes, one table for the node.
//!
//! Implementation notes:
//! - A link is looked up by the peer's advertised ring address. The side that
//!   connects sends a hello with its own address first, so the acceptor can
//!   use the same socket to answer: two nodes need one link, not two.
//! - Every outbound queue is bounded; a full queue drops the frame and counts
//!   it (the ring core's time-outs take it from there) instead of blocking
//!   the node. Inbound frames go to one bounded channel, so a slow node
//!   pushes back on its peers' TCP windows rather than growing memory.
//! - A failed connect puts the address in exponential backoff; sends to it
//!   fail fast until the backoff ends, and a `Down` event tells the node.
//! - A malformed, oversized or wrong-version frame closes that link with a
//!   logged reason and a counter; the node keeps running.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use super::frame::{self, Frame};

/// Limits and timers of the ring links.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Largest frame sent or accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Frames queued per link before further sends are dropped.
    pub queue_len: usize,
    /// Most links open at once (both directions).
    pub max_links: usize,
    /// Time allowed for TCP + WebSocket handshake.
    pub connect_timeout: Duration,
    /// Time an accepted link has to send its hello.
    pub hello_timeout: Duration,
    /// A link with no traffic either way for this long is closed.
    pub idle_timeout: Duration,
    /// First backoff after a failed connect; doubles up to `backoff_max`.
    pub backoff_initial: Duration,
    /// Longest backoff.
    pub backoff_max: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            max_frame_bytes: 1024 * 1024,
            queue_len: 1024,
            max_links: 512,
            connect_timeout: Duration::from_secs(3),
            hello_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(120),
            backoff_initial: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
        }
    }
}

/// What the links report to the node.
#[derive(Debug)]
pub enum LinkEvent<M> {
    /// A payload arrived from the node advertising `from`.
    Frame { from: String, msg: M },
    /// The link to `addr` failed or closed; frames queued on it are lost.
    Down { addr: String, reason: String },
}

/// Why a frame was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The link's queue is full.
    #[error("link queue full")]
    QueueFull,
    /// Connecting to this address failed recently; retry after the backoff.
    #[error("address in backoff after a failed connect")]
    Backoff,
    /// The link table is at `max_links`.
    #[error("too many ring links")]
    TooManyLinks,
    /// The link is closing.
    #[error("link closed")]
    Closed,
}

/// Node-wide link counters, for the status API.
#[derive(Debug, Default, Serialize)]
pub struct LinkCounters {
    #[serde(serialize_with = "ser_atomic")]
    pub frames_in: AtomicU64,
    #[serde(serialize_with = "ser_atomic")]
    pub frames_out: AtomicU64,
    #[serde(serialize_with = "ser_atomic")]
    pub dropped_queue_full: AtomicU64,
    #[serde(serialize_with = "ser_atomic")]
    pub closed_malformed: AtomicU64,
    #[serde(serialize_with = "ser_atomic")]
    pub connect_failures: AtomicU64,
    #[serde(serialize_with = "ser_atomic")]
    pub refused_too_many: AtomicU64,
}

fn ser_atomic<S: Serializer>(v: &AtomicU64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.load(Ordering::Relaxed))
}

/// One row of the link table, for the status API.
#[derive(Debug, Clone, Serialize)]
pub struct LinkStatus {
    pub addr: String,
    /// `connecting`, `up` or `backoff`.
    pub state: &'static str,
    /// `outbound` (we connected) or `inbound`.
    pub direction: &'static str,
    pub frames_in: u64,
    pub frames_out: u64,
    /// Consecutive failed connects (backoff only).
    pub failures: u32,
}

/// Checks a decoded payload against the node's limits; an `Err` closes the
/// link with that reason, like any malformed frame.
pub type Validator<M> = Arc<dyn Fn(&M) -> Result<(), String> + Send + Sync>;

/// The link table of one node. Cheap to clone; all clones share it.
pub struct Links<M> {
    inner: Arc<Inner<M>>,
}

impl<M> Clone for Links<M> {
    fn clone(&self) -> Self {
        Links { inner: self.inner.clone() }
    }
}

struct Inner<M> {
    self_addr: String,
    config: LinkConfig,
    validate: Validator<M>,
    table: Mutex<Table<M>>,
    events: mpsc::Sender<LinkEvent<M>>,
    counters: LinkCounters,
    /// Link tasks still running, so shutdown can wait for queues to flush.
    tasks: AtomicUsize,
    tasks_done: Notify,
    /// Set once by shutdown; ends links that have no send queue to drain.
    closing: watch::Sender<bool>,
}

struct Table<M> {
    slots: HashMap<String, Slot<M>>,
    next_id: u64,
    /// Links open or opening, inbound ones without a slot included.
    open: usize,
}

enum Slot<M> {
    Live { id: u64, tx: mpsc::Sender<M>, outbound: bool, stats: Arc<LinkStats> },
    Backoff { until: Instant, delay: Duration, failures: u32 },
}

#[derive(Default)]
struct LinkStats {
    connected: std::sync::atomic::AtomicBool,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
}

impl<M> Links<M>
where
    M: Serialize + DeserializeOwned + Send + 'static,
{
    /// Creates the table for a node advertising `self_addr`; every event
    /// goes to `events`, every payload is checked by `validate` first.
    pub fn new(
        self_addr: String,
        config: LinkConfig,
        events: mpsc::Sender<LinkEvent<M>>,
        validate: Validator<M>,
    ) -> Self {
        Links {
            inner: Arc::new(Inner {
                self_addr,
                config,
                validate,
                table: Mutex::new(Table { slots: HashMap::new(), next_id: 0, open: 0 }),
                events,
                counters: LinkCounters::default(),
                tasks: AtomicUsize::new(0),
                tasks_done: Notify::new(),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// The address this node advertises.
    pub fn self_addr(&self) -> &str {
        &self.inner.self_addr
    }

    /// Queues `msg` for the node at `to`, connecting first if needed.
    /// Never blocks. Must run inside a tokio runtime.
    pub fn send(&self, to: &str, msg: M) -> Result<(), SendError> {
        let inner = &self.inner;
        let mut table = inner.lock();
        let failures = match table.slots.get(to) {
            Some(Slot::Live { tx, .. }) => {
                return tx.try_send(msg).map_err(|e| match e {
                    mpsc::error::TrySendError::Full(_) => {
                        inner.counters.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
                        SendError::QueueFull
                    }
                    mpsc::error::TrySendError::Closed(_) => SendError::Closed,
                });
            }
            Some(Slot::Backoff { until, .. }) if Instant::now() < *until => return Err(SendError::Backoff),
            Some(Slot::Backoff { failures, delay, .. }) => Some((*failures, *delay)),
            None => None,
        };
        if table.open >= inner.config.max_links {
            inner.counters.refused_too_many.fetch_add(1, Ordering::Relaxed);
            return Err(SendError::TooManyLinks);
        }
        // Addresses come from other nodes' messages: keep the table bounded
        // even if a peer advertises many that never answer. Backoff entries
        // past their time are only there to double the next delay.
        let cap = inner.config.max_links.saturating_mul(2);
        if table.slots.len() >= cap {
            let now = Instant::now();
            table.slots.retain(|_, slot| !matches!(slot, Slot::Backoff { until, .. } if *until <= now));
            if table.slots.len() >= cap {
                inner.counters.refused_too_many.fetch_add(1, Ordering::Relaxed);
                return Err(SendError::TooManyLinks);
            }
        }
        let (tx, rx) = mpsc::channel(inner.config.queue_len.max(1));
        // A fresh channel with room for at least one frame cannot be full.
        let _ = tx.try_send(msg);
        let id = table.next_id;
        table.next_id += 1;
        table.open += 1;
        let stats = Arc::new(LinkStats::default());
        table.slots.insert(to.to_owned(), Slot::Live { id, tx, outbound: true, stats: stats.clone() });
        drop(table);
        inner.tasks.fetch_add(1, Ordering::AcqRel);
        let task_inner = inner.clone();
        let addr = to.to_owned();
        tokio::spawn(async move {
            task_inner.connect_and_run(addr, id, rx, stats, failures).await;
            task_inner.task_ended();
        });
        Ok(())
    }

    /// Accepts links on `listener` until the process ends.
    pub async fn serve(&self, listener: TcpListener) {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    // Usually EMFILE: back off briefly instead of spinning.
                    tracing::warn!("ring accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let inner = self.inner.clone();
            {
                let mut table = inner.lock();
                if table.open >= inner.config.max_links {
                    inner.counters.refused_too_many.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("refusing ring link from {peer}: {} links open", table.open);
                    continue;
                }
                table.open += 1;
            }
            inner.tasks.fetch_add(1, Ordering::AcqRel);
            tokio::spawn(async move {
                inner.accept_and_run(tcp, peer.to_string()).await;
                inner.task_ended();
            });
        }
    }

    /// Rows of the link table, sorted by address.
    pub fn snapshot(&self) -> Vec<LinkStatus> {
        let table = self.inner.lock();
        let mut rows: Vec<LinkStatus> = table
            .slots
            .iter()
            .map(|(addr, slot)| match slot {
                Slot::Live { outbound, stats, .. } => LinkStatus {
                    addr: addr.clone(),
                    state: if stats.connected.load(Ordering::Relaxed) { "up" } else { "connecting" },
                    direction: if *outbound { "outbound" } else { "inbound" },
                    frames_in: stats.frames_in.load(Ordering::Relaxed),
                    frames_out: stats.frames_out.load(Ordering::Relaxed),
                    failures: 0,
                },
                Slot::Backoff { failures, .. } => LinkStatus {
                    addr: addr.clone(),
                    state: "backoff",
                    direction: "outbound",
                    frames_in: 0,
                    frames_out: 0,
                    failures: *failures,
                },
            })
            .collect();
        rows.sort_by(|a, b| a.addr.cmp(&b.addr));
        rows
    }

    /// Node-wide counters.
    pub fn counters(&self) -> &LinkCounters {
        &self.inner.counters
    }

    /// Stops taking frames, lets every link flush what it has queued, and
    /// waits for them to close (at most `deadline`).
    pub async fn shutdown(&self, deadline: Duration) {
        self.inner.lock().slots.clear();
        self.inner.closing.send_replace(true);
        let wait = async {
            loop {
                let notified = self.inner.tasks_done.notified();
                if self.inner.tasks.load(Ordering::Acquire) == 0 {
                    break;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(deadline, wait).await.is_err() {
            tracing::warn!("ring links still open after {deadline:?}; exiting anyway");
        }
    }
}

impl<M> Inner<M>
where
    M: Serialize + DeserializeOwned + Send + 'static,
{
    fn lock(&self) -> MutexGuard<'_, Table<M>> {
        // The table is only touched in short sections that cannot panic, so
        // a poisoned lock still holds a consistent table.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn task_ended(&self) {
        self.tasks.fetch_sub(1, Ordering::AcqRel);
        self.tasks_done.notify_waiters();
    }

    fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .max_message_size(Some(self.config.max_frame_bytes))
            .max_frame_size(Some(self.config.max_frame_bytes))
    }

    async fn connect_and_run(
        self: &Arc<Self>,
        addr: String,
        id: u64,
        rx: mpsc::Receiver<M>,
        stats: Arc<LinkStats>,
        previous: Option<(u32, Duration)>,
    ) {
        let connect = tokio_tungstenite::connect_async_with_config(addr.as_str(), Some(self.ws_config()), true);
        let error = match tokio::time::timeout(self.config.connect_timeout, connect).await {
            Ok(Ok((mut ws, _response))) => {
                let hello = Frame::<M>::Hello { addr: self.self_addr.clone() };
                match frame::encode(&hello, self.config.max_frame_bytes) {
                    Ok(bytes) => match ws.send(WsMessage::Binary(bytes.into())).await {
                        Ok(()) => {
                            stats.connected.store(true, Ordering::Relaxed);
                            tracing::debug!("ring link to {addr} up");
                            self.run(ws, addr, id, Some(rx), stats).await;
                            return;
                        }
                        Err(e) => format!("sending hello: {e}"),
                    },
                    Err(e) => format!("encoding hello: {e}"),
                }
            }
            Ok(Err(e)) => format!("connect: {e}"),
            Err(_) => format!("connect timed out after {:?}", self.config.connect_timeout),
        };
        self.counters.connect_failures.fetch_add(1, Ordering::Relaxed);
        let (failures, delay) = match previous {
            Some((failures, delay)) => (failures + 1, (delay * 2).min(self.config.backoff_max)),
            None => (1, self.config.backoff_initial),
        };
        {
            let mut table = self.lock();
            table.open -= 1;
            if matches!(table.slots.get(&addr), Some(Slot::Live { id: live, .. }) if *live == id) {
                table.slots.insert(addr.clone(), Slot::Backoff { until: Instant::now() + delay, delay, failures });
            }
        }
        tracing::info!("ring link to {addr} failed ({error}); retry allowed in {delay:?}");
        let _ = self.events.send(LinkEvent::Down { addr, reason: error }).await;
    }

    async fn accept_and_run(self: &Arc<Self>, tcp: tokio::net::TcpStream, peer: String) {
        // Like the connecting side (`connect_async_with_config(.., true)`):
        // without it Nagle holds a frame written right after another until
        // the peer's delayed ACK, 40 ms on Linux (seen as ACK then BYE).
        let _ = tcp.set_nodelay(true);
        let accepted = async {
            let mut ws = tokio_tungstenite::accept_async_with_config(tcp, Some(self.ws_config()))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            let first = ws.next().await.ok_or("closed before hello")?.map_err(|e| format!("reading hello: {e}"))?;
            let WsMessage::Binary(bytes) = first else {
                return Err("first frame is not a binary hello".to_owned());
            };
            match frame::decode::<M>(&bytes, self.config.max_frame_bytes) {
                Ok(Frame::Hello { addr }) => Ok((ws, addr)),
                Ok(Frame::Msg(_)) => Err("first frame is not a hello".to_owned()),
                Err(e) => Err(e.to_string()),
            }
        };
        let (ws, addr) = match tokio::time::timeout(self.config.hello_timeout, accepted).await {
            Ok(Ok(x)) => x,
            Ok(Err(reason)) => {
                self.counters.closed_malformed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("ring link from {peer} refused: {reason}");
                self.lock().open -= 1;
                return;
            }
            Err(_) => {
                tracing::warn!("ring link from {peer} refused: no hello in {:?}", self.config.hello_timeout);
                self.lock().open -= 1;
                return;
            }
        };
        let stats = Arc::new(LinkStats::default());
        stats.connected.store(true, Ordering::Relaxed);
        // Answer over this link unless we already have one to that address.
        let rx = {
            let mut table = self.lock();
            let reuse = !matches!(table.slots.get(&addr), Some(Slot::Live { .. }));
            if reuse {
                let (tx, rx) = mpsc::channel(self.config.queue_len.max(1));
                let id = table.next_id;
                table.next_id += 1;
                table.slots.insert(addr.clone(), Slot::Live { id, tx, outbound: false, stats: stats.clone() });
                Some((id, rx))
            } else {
                None
            }
        };
        tracing::debug!("ring link from {addr} ({peer}) up");
        match rx {
            Some((id, rx)) => self.run(ws, addr, id, Some(rx), stats).await,
            None => self.run(ws, addr, u64::MAX, None, stats).await,
        }
    }

    /// Moves frames both ways until the link ends, then reports it down.
    async fn run<S>(
        self: &Arc<Self>,
        ws: WebSocketStream<S>,
        addr: String,
        id: u64,
        mut rx: Option<mpsc::Receiver<M>>,
        stats: Arc<LinkStats>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (mut sink, mut stream) = ws.split();
        let mut closing = self.closing.subscribe();
        let idle = self.config.idle_timeout;
        let mut deadline = Instant::now() + idle;
        let reason = loop {
            tokio::select! {
                out = recv_or_closing(&mut rx, &mut closing) => {
                    let Some(msg) = out else { break "closing".to_owned() };
                    let bytes = match frame::encode(&Frame::Msg(msg), self.config.max_frame_bytes) {
                        Ok(b) => b,
                        Err(e) => {
                            // Our own frame is too large: drop it, keep the link.
                            tracing::error!("not sending ring frame to {addr}: {e}");
                            continue;
                        }
                    };
                    if let Err(e) = sink.send(WsMessage::Binary(bytes.into())).await {
                        break format!("write: {e}");
                    }
                    stats.frames_out.fetch_add(1, Ordering::Relaxed);
                    self.counters.frames_out.fetch_add(1, Ordering::Relaxed);
                    deadline = Instant::now() + idle;
                }
                incoming = stream.next() => {
                    deadline = Instant::now() + idle;
                    match incoming {
                        Some(Ok(WsMessage::Binary(bytes))) => match frame::decode::<M>(&bytes, self.config.max_frame_bytes) {
                            Ok(Frame::Msg(msg)) => {
                                if let Err(reason) = (self.validate)(&msg) {
                                    break self.malformed(&mut sink, &addr, reason).await;
                                }
                                stats.frames_in.fetch_add(1, Ordering::Relaxed);
                                self.counters.frames_in.fetch_add(1, Ordering::Relaxed);
                                if self.events.send(LinkEvent::Frame { from: addr.clone(), msg }).await.is_err() {
                                    break "node stopped".to_owned();
                                }
                            }
                            Ok(Frame::Hello { .. }) => break self.malformed(&mut sink, &addr, "second hello".to_owned()).await,
                            Err(e) => break self.malformed(&mut sink, &addr, e.to_string()).await,
                        },
                        Some(Ok(WsMessage::Text(_))) => break self.malformed(&mut sink, &addr, "text frame".to_owned()).await,
                        Some(Ok(WsMessage::Close(_))) | None => break "closed by peer".to_owned(),
                        Some(Ok(_)) => {} // ping/pong: tungstenite answers pings itself
                        Some(Err(e)) => {
                            use tokio_tungstenite::tungstenite::Error;
                            if matches!(e, Error::Capacity(_) | Error::Protocol(_)) {
                                self.counters.closed_malformed.fetch_add(1, Ordering::Relaxed);
                                tracing::warn!("closing ring link with {addr}: {e}");
                            }
                            break format!("read: {e}");
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline) => break format!("idle for {idle:?}"),
            }
        };
        let _ = sink.close().await;
        {
            let mut table = self.lock();
            table.open -= 1;
            if matches!(table.slots.get(&addr), Some(Slot::Live { id: live, .. }) if *live == id) {
                table.slots.remove(&addr);
            }
        }
        tracing::debug!("ring link with {addr} down: {reason}");
        let _ = self.events.send(LinkEvent::Down { addr, reason }).await;
    }

    async fn malformed<K>(&self, sink: &mut K, addr: &str, reason: String) -> String
    where
        K: SinkExt<WsMessage> + Unpin,
    {
        self.counters.closed_malformed.fetch_add(1, Ordering::Relaxed);
        tracing::warn!("closing ring link with {addr}: malformed frame: {reason}");
        let close = CloseFrame { code: CloseCode::Invalid, reason: format!("malformed frame: {reason}").chars().take(100).collect::<String>().into() };
        let _ = sink.send(WsMessage::Close(Some(close))).await;
        format!("malformed frame: {reason}")
    }
}

/// The next frame to send. A link with a queue ends when the queue is
/// dropped and drained; one without ends when the node shuts down.
async fn recv_or_closing<M>(rx: &mut Option<mpsc::Receiver<M>>, closing: &mut watch::Receiver<bool>) -> Option<M> {
    match rx {
        Some(rx) => rx.recv().await,
        None => {
            // An error means the table is gone: the node is stopping too.
            let _ = closing.wait_for(|c| *c).await;
            None
        }
    }
}
