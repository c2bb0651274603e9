//! Parse throughput on one thread: a realistic REGISTER (as SIP.js sends it
//! over WebSocket) and an INVITE with a ~1 KB WebRTC SDP offer.
//!
//! Run: `cargo run --release -p sip --example bench_parse`
//! Prints `figure: <name> <value> parses/s` lines: the best of twenty
//! 100 ms windows (about 2 s per message), with the median on stderr.

use std::hint::black_box;
use std::time::{Duration, Instant};

use sip::{parse_datagram, Limits, Message};

const REGISTER: &str = "REGISTER sip:example.org SIP/2.0\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1784563;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:alice@example.org>\r\n\
From: \"Alice\" <sip:alice@example.org>;tag=nh3b2ckq4h\r\n\
Call-ID: 8o6bm5ruaehp6n3dsj3ha2\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:k3j4h5g6@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\";expires=600\r\n\
Expires: 600\r\n\
Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\r\n\
Supported: path,gruu,outbound\r\n\
User-Agent: SIP.js/0.21.2\r\n\
Content-Length: 0\r\n\r\n";

const INVITE_HEAD: &str = "INVITE sip:bob@example.org SIP/2.0\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK5590863\r\n\
Max-Forwards: 70\r\n\
To: <sip:bob@example.org>\r\n\
From: \"Alice\" <sip:alice@example.org>;tag=9fh3k2mq1b\r\n\
Call-ID: kc0v1ti1ne3b2a8ok2m3\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:k3j4h5g6@df7jal23ls0d.invalid;transport=ws;ob>\r\n\
Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\r\n\
Supported: outbound\r\n\
User-Agent: SIP.js/0.21.2\r\n\
Content-Type: application/sdp\r\n";

const SDP: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=extmap-allow-mixed\r\n\
a=msid-semantic: WMS 5b1c2f0e-6d5a-4a8e-9f6e-2a3c1b0d9e8f\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=candidate:842163049 1 udp 1677729535 198.51.100.7 54400 typ srflx raddr 0.0.0.0 rport 0 generation 0\r\n\
a=ice-ufrag:EsAw\r\n\
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
a=sendrecv\r\n\
a=msid:5b1c2f0e-6d5a-4a8e-9f6e-2a3c1b0d9e8f 0c6e8a3b-1f2d-4e5a-8b7c-9d0e1f2a3b4c\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtcp-fb:111 transport-cc\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:63 red/48000/2\r\n\
a=fmtp:63 111/111\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:13 CN/8000\r\n\
a=rtpmap:110 telephone-event/48000\r\n\
a=rtpmap:126 telephone-event/8000\r\n\
a=ssrc:3735928559 cname:4TOk42mSjXCkVIa6\r\n\
a=ssrc:3735928559 msid:5b1c2f0e-6d5a-4a8e-9f6e-2a3c1b0d9e8f 0c6e8a3b-1f2d-4e5a-8b7c-9d0e1f2a3b4c\r\n";

/// Rates of `WINDOWS` back-to-back windows of `WINDOW` each: (best, median)
/// parses per second. The best window is the figure: on a shared machine the
/// other windows measure the neighbours as much as the parser.
const WINDOWS: usize = 20;
const WINDOW: Duration = Duration::from_millis(100);

fn measure(bytes: &[u8]) -> (f64, f64) {
    let limits = Limits::default();
    // Warm up caches, branch predictors and the allocator.
    for _ in 0..10_000 {
        black_box(parse_datagram(black_box(bytes), &limits).is_ok());
    }
    let mut rates = Vec::with_capacity(WINDOWS);
    for _ in 0..WINDOWS {
        let start = Instant::now();
        let mut parses: u64 = 0;
        while start.elapsed() < WINDOW {
            for _ in 0..500 {
                let message = parse_datagram(black_box(bytes), &limits);
                black_box(&message);
            }
            parses += 500;
        }
        rates.push(parses as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let best = rates.last().copied().unwrap_or(0.0);
    let median = rates.get(WINDOWS / 2).copied().unwrap_or(0.0);
    (best, median)
}

fn main() {
    let invite = format!("{INVITE_HEAD}Content-Length: {}\r\n\r\n{SDP}", SDP.len());
    for (bytes, what) in [(REGISTER.as_bytes(), "REGISTER"), (invite.as_bytes(), "INVITE")] {
        match parse_datagram(bytes, &Limits::default()) {
            Ok(Message::Request(_)) => {}
            other => panic!("benchmark {what} does not parse: {other:?}"),
        }
    }
    eprintln!("REGISTER {} bytes; INVITE {} bytes with {} bytes of SDP", REGISTER.len(), invite.len(), SDP.len());
    for (name, bytes) in [
        ("sip_parse_register_per_sec", REGISTER.as_bytes()),
        ("sip_parse_invite_sdp_per_sec", invite.as_bytes()),
    ] {
        let (best, median) = measure(bytes);
        eprintln!("{name}: median of {WINDOWS} windows {median:.0} parses/s");
        println!("figure: {name} {best:.0} parses/s");
    }
}
