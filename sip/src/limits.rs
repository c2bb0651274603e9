//! Size limits applied while parsing (DESIGN.md "Bound everything").

/// Bounds on what the parser accepts. Exceeding one is a [`crate::ParseError`]
/// (413 or 513), never a panic or an unbounded allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Whole message: start line, headers and body. Default 64 KiB.
    pub max_message_bytes: usize,
    /// Header values after comma lists are split (a Via line with three
    /// values counts three). Default 128.
    pub max_header_count: usize,
    /// One header field after unfolding, name included; also the request
    /// or status line. Default 8 KiB.
    pub max_header_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 * 1024,
            max_header_count: 128,
            max_header_line_bytes: 8 * 1024,
        }
    }
}
