//! The SIP driver: one tokio task that owns the [`SipCore`], feeds it what
//! the transports receive, the results of ring store operations and timer
//! expiries, and carries out what it asks: bytes to connections, UDP peers
//! and other super-nodes, and operations on the ring.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chord::{OpError, OpOutcome};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::ring::{RingError, RingHandle, RingPayload};
use crate::sipcore::{ConnKind, Flow, SipCore, Stats, StoreOp};

/// Messages to one connection, bounded: a peer that does not read is cut off.
pub const CONN_QUEUE_LEN: usize = 256;
/// Inputs waiting for the core.
const INPUT_QUEUE_LEN: usize = 8192;

/// What the transports and the ring tell the SIP task.
pub enum SipInput {
    /// A WebSocket or TCP connection opened; `tx` carries its outbound messages.
    ConnOpened { id: u64, kind: ConnKind, tx: mpsc::Sender<Vec<u8>> },
    /// It closed.
    ConnClosed { id: u64 },
    /// One message from a datagram-framed flow (UDP, WebSocket, ring).
    Datagram { flow: Flow, bytes: Vec<u8> },
    /// One message framed by a stream transport (TCP).
    Parsed { flow: Flow, parsed: Result<sip::Message, sip::ParseError>, raw: Vec<u8> },
    /// A ring link went down.
    RingDown { addr: String },
    /// A store operation finished.
    StoreDone { id: u64, result: Result<OpOutcome, OpError> },
    /// Counters, for the status API.
    Stats { reply: oneshot::Sender<Stats> },
}

/// A cheap, cloneable way to reach the SIP task.
#[derive(Clone)]
pub struct SipHandle {
    tx: mpsc::Sender<SipInput>,
    next_conn: Arc<std::sync::atomic::AtomicU64>,
}

impl SipHandle {
    /// Sends an input, waiting while the core is busy (backpressure on the
    /// transport that produced it).
    pub async fn send(&self, input: SipInput) -> bool {
        self.tx.send(input).await.is_ok()
    }

    /// A fresh connection id.
    pub fn conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// The core's counters.
    pub async fn stats(&self) -> Option<Stats> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(SipInput::Stats { reply }).await.ok()?;
        rx.await.ok()
    }
}

/// Creates the input channel and its handle.
pub fn channel() -> (SipHandle, mpsc::Receiver<SipInput>) {
    let (tx, rx) = mpsc::channel(INPUT_QUEUE_LEN);
    (SipHandle { tx, next_conn: Arc::new(std::sync::atomic::AtomicU64::new(1)) }, rx)
}

/// Runs the core until every handle is dropped.
pub async fn run(mut core: SipCore, mut inputs: mpsc::Receiver<SipInput>, handle: SipHandle, ring: RingHandle, udp: Option<Arc<UdpSocket>>) {
    let epoch = Instant::now();
    let now_ms = || u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut conns: HashMap<u64, mpsc::Sender<Vec<u8>>> = HashMap::new();
    loop {
        let deadline = core.poll_timeout().map(|t| epoch + Duration::from_millis(t));
        tokio::select! {
            input = inputs.recv() => {
                let Some(input) = input else { break };
                let now = now_ms();
                match input {
                    SipInput::ConnOpened { id, kind, tx } => {
                        conns.insert(id, tx);
                        core.handle_conn_opened(id, kind);
                    }
                    SipInput::ConnClosed { id } => {
                        conns.remove(&id);
                        core.handle_conn_closed(now, id);
                    }
                    SipInput::Datagram { flow, bytes } => core.handle_datagram(now, flow, &bytes),
                    SipInput::Parsed { flow, parsed, raw } => core.handle_parsed(now, flow, parsed, &raw),
                    SipInput::RingDown { addr } => core.handle_flow_failed(now, &Flow::Ring(addr)),
                    SipInput::StoreDone { id, result } => core.handle_store_result(now, id, result),
                    SipInput::Stats { reply } => {
                        let _ = reply.send(core.stats());
                    }
                }
            }
            () = sleep_until_opt(deadline) => core.handle_timeout(now_ms()),
        }
        // Carry out everything the core asked for.
        loop {
            let mut failed = Vec::new();
            while let Some(t) = core.poll_transmit() {
                match &t.flow {
                    Flow::Conn(id) => match conns.get(id) {
                        Some(tx) => {
                            if tx.try_send(t.bytes).is_err() {
                                // The peer is not reading: drop the connection
                                // rather than buffer without bound.
                                tracing::warn!("connection #{id} not reading; closing it");
                                conns.remove(id);
                                failed.push(t.flow.clone());
                            }
                        }
                        None => failed.push(t.flow.clone()),
                    },
                    Flow::Udp(addr) => send_udp(udp.as_deref(), *addr, &t.bytes),
                    Flow::Ring(addr) => {
                        if let Err(e) = ring.links().send(addr, RingPayload::Sip(t.bytes)) {
                            tracing::debug!("SIP to super-node {addr} not sent: {e}");
                            failed.push(t.flow.clone());
                        }
                    }
                }
            }
            while let Some(req) = core.poll_store() {
                start_store(&ring, &handle, req.id, req.op);
            }
            if failed.is_empty() {
                break;
            }
            let now = now_ms();
            for flow in failed {
                match flow {
                    Flow::Conn(id) => core.handle_conn_closed(now, id),
                    other => core.handle_flow_failed(now, &other),
                }
            }
        }
    }
}

fn send_udp(socket: Option<&UdpSocket>, addr: SocketAddr, bytes: &[u8]) {
    let Some(socket) = socket else { return };
    // UDP is lossy by nature: a full socket buffer is a lost datagram, which
    // the transaction layer retransmits.
    if let Err(e) = socket.try_send_to(bytes, addr) {
        tracing::debug!("UDP send to {addr} failed: {e}");
    }
}

/// Runs one ring operation in its own task and reports back.
fn start_store(ring: &RingHandle, handle: &SipHandle, id: u64, op: StoreOp) {
    let (ring, handle) = (ring.clone(), handle.clone());
    tokio::spawn(async move {
        let result = match op {
            StoreOp::Get { key, prefix } => ring.get(key, (!prefix.is_empty()).then_some(prefix)).await,
            StoreOp::Put { key, sub_key, value, version, ttl_ms } => ring.put(key, sub_key, value, version, ttl_ms).await,
            StoreOp::Delete { key, sub_key, version, ttl_ms } => ring.delete(key, sub_key, version, ttl_ms).await,
        };
        let result = result.map(|(outcome, _hops)| outcome).map_err(|e| match e {
            RingError::Op(e) => e,
            RingError::Overloaded => OpError::Busy,
            RingError::Stopped => OpError::NotMember,
        });
        handle.send(SipInput::StoreDone { id, result }).await;
    });
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
