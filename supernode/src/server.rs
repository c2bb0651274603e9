//! Assembles a super-node: ring listener and links, the ring driver, the
//! HTTP server; runs until SIGTERM or Ctrl-C, then leaves the ring cleanly.

use std::sync::Arc;
use std::time::Duration;

use chord::{Id, Node, NodeAddr, NodeRef};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::http::{self, AppState};
use crate::ring::links::{LinkConfig, Links};
use crate::ring::{payload, Driver, RingPayload, RingSip};
use crate::sip_driver::{self, SipInput};
use crate::sipcore::{Flow, Local, SipCore};
use crate::{hosts, sip_tcp, sip_udp};

/// Why the super-node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("binding {what} on {addr}: {source}")]
    Bind { what: &'static str, addr: std::net::SocketAddr, source: std::io::Error },
    /// The advertised or join address is not a valid ring address.
    #[error("ring address: {0}")]
    Addr(#[from] chord::AddrError),
    /// `--node-id` is not 40 hex digits.
    #[error("node id: {0}")]
    Id(#[from] chord::IdError),
    /// Ring options that do not fit together.
    #[error("ring configuration: {0}")]
    Ring(#[from] chord::ConfigError),
    /// The HTTP server failed.
    #[error("http server: {0}")]
    Http(std::io::Error),
}

/// Bound on link events waiting for the ring driver.
const LINK_EVENT_QUEUE_LEN: usize = 4096;
/// Bound on relayed SIP messages waiting for the SIP core.
const SIP_RELAY_QUEUE_LEN: usize = 1024;
/// How long shutdown waits for the leave hand-off and for links to flush.
const LEAVE_DEADLINE: Duration = Duration::from_secs(8);

/// Runs a super-node until a stop signal.
pub async fn run(config: Config) -> Result<(), StartError> {
    let config = Arc::new(config);
    let ring_listener = TcpListener::bind(config.ring_listen)
        .await
        .map_err(|source| StartError::Bind { what: "ring listener", addr: config.ring_listen, source })?;
    let ring_local = ring_listener.local_addr().map_err(StartError::Http)?;
    let advertise = config.ring_advertise.clone().unwrap_or_else(|| format!("ws://{ring_local}"));
    let addr = NodeAddr::new(advertise)?;
    let id = match &config.node_id {
        Some(hex) => hex.parse::<Id>()?,
        None => Id::hash(addr.as_str().as_bytes()),
    };
    let chord_config = config.chord();
    chord_config.validate()?;
    let me = NodeRef { id, addr: addr.clone() };
    let node = Node::new(chord_config.clone(), me, rand::random())?;
    let join = config.join.clone().map(NodeAddr::new).transpose()?;

    let (link_tx, link_rx) = mpsc::channel(LINK_EVENT_QUEUE_LEN);
    let max_sip = config.max_sip_message_bytes;
    let validator_config = chord_config.clone();
    let links: Links<RingPayload> = Links::new(
        addr.as_str().to_owned(),
        LinkConfig {
            // A ring message plus the frame's own few bytes of envelope.
            max_frame_bytes: chord_config.max_message_bytes.max(max_sip) + 1024,
            max_links: config.max_ring_links,
            ..LinkConfig::default()
        },
        link_tx,
        Arc::new(move |p: &RingPayload| payload::validate(p, &validator_config, max_sip)),
    );
    let serving = links.clone();
    tokio::spawn(async move { serving.serve(ring_listener).await });

    let (ring_sip_tx, mut ring_sip_rx) = mpsc::channel::<RingSip>(SIP_RELAY_QUEUE_LEN);
    let (driver, ring) = Driver::new(node, links.clone(), link_rx, ring_sip_tx);
    tracing::info!("ring member {} id {id} ({})", addr, if join.is_some() { "joining" } else { "new ring" });
    tokio::spawn(driver.run(join));

    // SIP listeners: UDP first (port 0 picks one), then TCP on the same port.
    let udp = tokio::net::UdpSocket::bind(config.sip_listen)
        .await
        .map_err(|source| StartError::Bind { what: "SIP UDP socket", addr: config.sip_listen, source })?;
    let udp_local = udp.local_addr().map_err(StartError::Http)?;
    let tcp = TcpListener::bind(udp_local)
        .await
        .map_err(|source| StartError::Bind { what: "SIP TCP listener", addr: udp_local, source })?;
    let http_listener = TcpListener::bind(config.http_listen)
        .await
        .map_err(|source| StartError::Bind { what: "HTTP listener", addr: config.http_listen, source })?;
    let http_local = http_listener.local_addr().map_err(StartError::Http)?;

    let local = Local::new(Some(udp_local), Some(udp_local), http_local, addr.as_str());
    let core = SipCore::new(config.sip_core(), local, rand::random());
    let (sip, sip_inputs) = sip_driver::channel();
    let udp = Arc::new(udp);
    tokio::spawn(sip_driver::run(core, sip_inputs, sip.clone(), ring.clone(), Some(udp.clone())));
    tokio::spawn(sip_udp::serve(udp, sip.clone(), config.max_sip_message_bytes));
    let limits = config.sip_core().limits;
    tokio::spawn(sip_tcp::serve(tcp, sip.clone(), limits, config.max_sip_tcp_connections));
    let relay = sip.clone();
    tokio::spawn(async move {
        while let Some(ev) = ring_sip_rx.recv().await {
            let input = match ev {
                RingSip::Message { from, bytes } => SipInput::Datagram { flow: Flow::Ring(from.as_str().to_owned()), bytes },
                RingSip::LinkDown { addr } => SipInput::RingDown { addr },
            };
            if !relay.send(input).await {
                break;
            }
        }
    });
    tracing::info!("SIP over UDP and TCP at {udp_local}");
    tracing::info!(
        "serving http://{http_local}/ (www dir {}), SIP over WebSocket at ws://{http_local}/sip",
        config.www_dir.display()
    );
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{http_local}"));
    tokio::spawn(hosts::advertise(ring.clone(), public_url));
    let state = AppState::new(config.clone(), ring.clone(), sip.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let http_task = tokio::spawn(async move {
        let mut stop_rx = stop_rx;
        let app = http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(http_listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            })
            .await
    });

    let signal = wait_for_stop_signal().await;
    tracing::info!("{signal}: leaving the ring");
    hosts::withdraw(&ring).await;
    match tokio::time::timeout(LEAVE_DEADLINE, ring.leave()).await {
        Ok(Ok(report)) => tracing::info!(
            "hand-off done: {} records, acknowledged {}",
            report.records_handed_off,
            report.acknowledged
        ),
        Ok(Err(e)) => tracing::warn!("leave failed: {e}"),
        Err(_) => tracing::warn!("leave did not finish in {LEAVE_DEADLINE:?}"),
    }
    links.shutdown(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    if let Ok(Ok(Err(e))) = tokio::time::timeout(Duration::from_secs(2), http_task).await {
        return Err(StartError::Http(e));
    }
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_stop_signal() -> &'static str {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = ctrl_c => "interrupt",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!("cannot watch SIGTERM ({e}); only Ctrl-C stops cleanly");
                let _ = ctrl_c.await;
                "interrupt"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
        "interrupt"
    }
}
