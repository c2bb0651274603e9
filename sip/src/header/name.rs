//! Header names: the typed ones, compact forms, and case-insensitive lookup.

/// A header this crate parses into a typed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Via,
    From,
    To,
    CallId,
    CSeq,
    MaxForwards,
    Contact,
    Expires,
    Route,
    RecordRoute,
    ContentType,
    ContentLength,
    Supported,
    Require,
    ProxyRequire,
    Unsupported,
    Allow,
}

/// Every typed header's full name (the tests check `classify` against it).
#[cfg(test)]
const TYPED: [(&str, Kind); 17] = [
    ("Via", Kind::Via),
    ("From", Kind::From),
    ("To", Kind::To),
    ("Call-ID", Kind::CallId),
    ("CSeq", Kind::CSeq),
    ("Max-Forwards", Kind::MaxForwards),
    ("Contact", Kind::Contact),
    ("Expires", Kind::Expires),
    ("Route", Kind::Route),
    ("Record-Route", Kind::RecordRoute),
    ("Content-Type", Kind::ContentType),
    ("Content-Length", Kind::ContentLength),
    ("Supported", Kind::Supported),
    ("Require", Kind::Require),
    ("Proxy-Require", Kind::ProxyRequire),
    ("Unsupported", Kind::Unsupported),
    ("Allow", Kind::Allow),
];

impl Kind {
    /// The full name written on output.
    pub(crate) fn canonical(self) -> &'static str {
        match self {
            Kind::Via => "Via",
            Kind::From => "From",
            Kind::To => "To",
            Kind::CallId => "Call-ID",
            Kind::CSeq => "CSeq",
            Kind::MaxForwards => "Max-Forwards",
            Kind::Contact => "Contact",
            Kind::Expires => "Expires",
            Kind::Route => "Route",
            Kind::RecordRoute => "Record-Route",
            Kind::ContentType => "Content-Type",
            Kind::ContentLength => "Content-Length",
            Kind::Supported => "Supported",
            Kind::Require => "Require",
            Kind::ProxyRequire => "Proxy-Require",
            Kind::Unsupported => "Unsupported",
            Kind::Allow => "Allow",
        }
    }

    /// Headers that may appear once only; a second one is a 400 (RFC 4475
    /// §3.3.8 multi01, §3.3.9 mcl01), which lets the typed getters return
    /// one value without an error case.
    pub(crate) fn is_singleton(self) -> bool {
        matches!(
            self,
            Kind::From
                | Kind::To
                | Kind::CallId
                | Kind::CSeq
                | Kind::MaxForwards
                | Kind::Expires
                | Kind::ContentType
                | Kind::ContentLength
        )
    }

    /// A distinct bit per kind, to track singletons seen while parsing.
    pub(crate) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// What a header name on the wire refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Name<'a> {
    /// A typed header.
    Typed(Kind),
    /// Any other header; compact forms of well-known untyped headers come
    /// back expanded (`s` → `Subject`), other names as written.
    Other(&'a str),
}

/// Looks a header name up, case-insensitively, compact forms included.
pub(crate) fn classify(name: &str) -> Name<'_> {
    if let [letter] = name.as_bytes() {
        return compact(letter.to_ascii_lowercase()).unwrap_or(Name::Other(name));
    }
    // Dispatch on length first: most lengths have a single candidate, so a
    // lookup is about one comparison. Candidates are lower case, so only the
    // wire side needs folding.
    let candidates: &[(&str, Kind)] = match name.len() {
        2 => &[("to", Kind::To)],
        3 => &[("via", Kind::Via)],
        4 => &[("from", Kind::From), ("cseq", Kind::CSeq)],
        5 => &[("route", Kind::Route), ("allow", Kind::Allow)],
        7 => &[
            ("call-id", Kind::CallId),
            ("contact", Kind::Contact),
            ("expires", Kind::Expires),
            ("require", Kind::Require),
        ],
        9 => &[("supported", Kind::Supported)],
        11 => &[("unsupported", Kind::Unsupported)],
        12 => &[
            ("max-forwards", Kind::MaxForwards),
            ("record-route", Kind::RecordRoute),
            ("content-type", Kind::ContentType),
        ],
        13 => &[("proxy-require", Kind::ProxyRequire)],
        14 => &[("content-length", Kind::ContentLength)],
        _ => &[],
    };
    candidates
        .iter()
        .find(|(lower, _)| lower.bytes().zip(name.bytes()).all(|(l, w)| l == w.to_ascii_lowercase()))
        .map_or(Name::Other(name), |(_, kind)| Name::Typed(*kind))
}

/// RFC 3261 §7.3.3 and the IANA registry's compact forms.
fn compact(letter: u8) -> Option<Name<'static>> {
    Some(match letter {
        b'i' => Name::Typed(Kind::CallId),
        b'm' => Name::Typed(Kind::Contact),
        b'l' => Name::Typed(Kind::ContentLength),
        b'c' => Name::Typed(Kind::ContentType),
        b'f' => Name::Typed(Kind::From),
        b'k' => Name::Typed(Kind::Supported),
        b't' => Name::Typed(Kind::To),
        b'v' => Name::Typed(Kind::Via),
        b'e' => Name::Other("Content-Encoding"),
        b's' => Name::Other("Subject"),
        b'o' => Name::Other("Event"),
        b'r' => Name::Other("Refer-To"),
        b'b' => Name::Other("Referred-By"),
        b'u' => Name::Other("Allow-Events"),
        b'x' => Name::Other("Session-Expires"),
        b'y' => Name::Other("Identity"),
        b'a' => Name::Other("Accept-Contact"),
        b'j' => Name::Other("Reject-Contact"),
        b'd' => Name::Other("Request-Disposition"),
        b'n' => Name::Other("Identity-Info"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(classify("vIA"), Name::Typed(Kind::Via));
        assert_eq!(classify("V"), Name::Typed(Kind::Via));
        assert_eq!(classify("call-id"), Name::Typed(Kind::CallId));
        assert_eq!(classify("L"), Name::Typed(Kind::ContentLength));
        assert_eq!(classify("s"), Name::Other("Subject"));
        assert_eq!(classify("C%6Fntact"), Name::Other("C%6Fntact"));
        assert_eq!(classify("q"), Name::Other("q"));
        for (full, kind) in TYPED {
            assert_eq!(kind.canonical(), full);
            assert_eq!(classify(full), Name::Typed(kind));
        }
    }
}
