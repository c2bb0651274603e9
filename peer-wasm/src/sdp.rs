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
}
