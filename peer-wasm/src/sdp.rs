//! The little the user agent reads from an SDP body: which media it offers.
//! WebRTC builds and parses the SDP itself; we only look at `m=` lines.

/// What an SDP offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Media {
    /// An `m=audio` line with a non-zero port.
    pub audio: bool,
    /// An `m=video` line with a non-zero port.
    pub video: bool,
}

/// Reads the `m=` lines of `sdp`. A port of 0 is a rejected stream.
pub fn media(sdp: &str) -> Media {
    let mut out = Media::default();
    for line in sdp.lines() {
        let Some(rest) = line.trim_end().strip_prefix("m=") else { continue };
        let mut fields = rest.split(' ');
        let kind = fields.next().unwrap_or("");
        let active = fields.next().is_some_and(|port| port != "0");
        match kind {
            "audio" => out.audio |= active,
            "video" => out.video |= active,
            _ => {}
        }
    }
    out
}

/// Whether an ICE candidate line (`candidate:<foundation> <component>
/// <protocol> <priority> <ip> <port> typ <type> …`) is worth waiting for
/// before the SDP goes out: a UDP host candidate, or, when ICE servers are
/// configured, a server-reflexive or relay one (what the servers are for).
pub fn usable_candidate(candidate: &str, needs_server: bool) -> bool {
    let mut fields = candidate.split(' ');
    let udp = fields.nth(2).is_some_and(|p| p.eq_ignore_ascii_case("udp"));
    let kind = fields.skip_while(|f| *f != "typ").nth(1).unwrap_or("");
    match kind {
        "srflx" | "relay" => true,
        "host" => udp && !needs_server,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_media_lines() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\n";
        assert_eq!(media(sdp), Media { audio: true, video: false });
        assert_eq!(media("m=video 9 x\nm=audio 9 x"), Media { audio: true, video: true });
        assert_eq!(media(""), Media::default());
        assert_eq!(media("m=\r\nm=video\r\n"), Media::default());
    }

    #[test]
    fn usable_candidates() {
        let host = "candidate:1 1 udp 2122194687 192.0.2.2 32828 typ host generation 0";
        let tcp = "candidate:2 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active";
        let srflx = "candidate:3 1 udp 1686052607 203.0.113.7 40000 typ srflx raddr 192.0.2.2 rport 32828";
        assert!(usable_candidate(host, false));
        assert!(!usable_candidate(host, true));
        assert!(!usable_candidate(tcp, false));
        assert!(usable_candidate(srflx, true));
        assert!(!usable_candidate("", false));
        assert!(!usable_candidate("candidate:1 1 udp 1 x 1 typ", false));
    }
}
