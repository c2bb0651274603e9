//! [`Headers`]: the ordered header list of a message, with typed getters.
//!
//! Getters for the singleton headers (From, To, Call-ID, CSeq, Max-Forwards,
//! Expires, Content-Type) return the first value. A parsed message never has
//! two of them (the parser rejects that with 400), so "first" is "the".
//! The proxy operations (prepend/remove Via, Record-Route, Route) are in
//! `proxy.rs`.

use crate::header::name::{classify, Name};
use crate::header::{CSeq, Contact, ContentType, Header, NameAddr, Via};
use crate::method::Method;

/// The header fields of a message, in order, without Content-Length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    list: Vec<Header>,
}

/// Yields the payload of every header of one variant (`&T`, through the
/// box for the boxed variants).
macro_rules! each {
    ($self:expr, $variant:ident) => {
        $self.list.iter().filter_map(|h| match h {
            Header::$variant(value) => Some(value),
            _ => None,
        })
    };
    ($self:expr, boxed $variant:ident) => {
        $self.list.iter().filter_map(|h| match h {
            Header::$variant(value) => Some(&**value),
            _ => None,
        })
    };
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Room for `capacity` headers.
    pub fn with_capacity(capacity: usize) -> Self {
        Headers { list: Vec::with_capacity(capacity) }
    }

    /// Number of header values.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// All headers in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.list.iter()
    }

    /// All headers in order, mutably.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Header> {
        self.list.iter_mut()
    }

    /// Appends a header.
    pub fn push(&mut self, header: Header) {
        self.list.push(header);
    }

    /// Inserts at `index` (clamped to the end).
    pub fn insert(&mut self, index: usize, header: Header) {
        let index = index.min(self.list.len());
        self.list.insert(index, header);
    }

    /// Removes and returns the header at `index`, if there is one.
    pub fn remove(&mut self, index: usize) -> Option<Header> {
        (index < self.list.len()).then(|| self.list.remove(index))
    }

    /// Keeps only the headers for which `keep` is true.
    pub fn retain(&mut self, keep: impl FnMut(&Header) -> bool) {
        self.list.retain(keep);
    }

    /// Replaces every header of the same name as `header` by `header`, at
    /// the place of the first one (or at the end). Use it for singletons.
    pub fn set(&mut self, header: Header) {
        match self.list.iter().position(|h| h.same_name(&header)) {
            Some(first) => {
                self.list.retain(|h| !h.same_name(&header));
                self.insert(first, header);
            }
            None => self.list.push(header),
        }
    }

    /// The list itself, for the parser to fill.
    pub(crate) fn list_mut(&mut self) -> &mut Vec<Header> {
        &mut self.list
    }

    /// Index of the first header for which `pred` holds.
    pub fn position(&self, pred: impl FnMut(&Header) -> bool) -> Option<usize> {
        self.list.iter().position(pred)
    }

    /// Via values, top (most recent hop) first.
    pub fn vias(&self) -> impl Iterator<Item = &Via> + '_ {
        each!(self, boxed Via)
    }

    /// The top Via.
    pub fn top_via(&self) -> Option<&Via> {
        self.vias().next()
    }

    /// The top Via, mutably (to add `received` / `rport`).
    pub fn top_via_mut(&mut self) -> Option<&mut Via> {
        self.list.iter_mut().find_map(|h| match h {
            Header::Via(via) => Some(&mut **via),
            _ => None,
        })
    }

    /// From.
    pub fn from(&self) -> Option<&NameAddr> {
        each!(self, boxed From).next()
    }

    /// To.
    pub fn to(&self) -> Option<&NameAddr> {
        each!(self, boxed To).next()
    }

    /// To, mutably (to add a tag).
    pub fn to_mut(&mut self) -> Option<&mut NameAddr> {
        self.list.iter_mut().find_map(|h| match h {
            Header::To(to) => Some(&mut **to),
            _ => None,
        })
    }

    /// Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        each!(self, CallId).next().map(String::as_str)
    }

    /// CSeq.
    pub fn cseq(&self) -> Option<&CSeq> {
        each!(self, CSeq).next()
    }

    /// Max-Forwards.
    pub fn max_forwards(&self) -> Option<u8> {
        each!(self, MaxForwards).next().copied()
    }

    /// Contact values in order.
    pub fn contacts(&self) -> impl Iterator<Item = &Contact> + '_ {
        each!(self, boxed Contact)
    }

    /// Expires in seconds.
    pub fn expires(&self) -> Option<u32> {
        each!(self, Expires).next().copied()
    }

    /// Route values, next hop first.
    pub fn routes(&self) -> impl Iterator<Item = &NameAddr> + '_ {
        each!(self, boxed Route)
    }

    /// Record-Route values in order.
    pub fn record_routes(&self) -> impl Iterator<Item = &NameAddr> + '_ {
        each!(self, boxed RecordRoute)
    }

    /// Content-Type.
    pub fn content_type(&self) -> Option<&ContentType> {
        each!(self, boxed ContentType).next()
    }

    /// Every option tag of every Supported header.
    pub fn supported(&self) -> impl Iterator<Item = &str> + '_ {
        each!(self, Supported).flatten().map(String::as_str)
    }

    /// Every option tag of every Require header.
    pub fn require(&self) -> impl Iterator<Item = &str> + '_ {
        each!(self, Require).flatten().map(String::as_str)
    }

    /// Every option tag of every Proxy-Require header.
    pub fn proxy_require(&self) -> impl Iterator<Item = &str> + '_ {
        each!(self, ProxyRequire).flatten().map(String::as_str)
    }

    /// Every option tag of every Unsupported header.
    pub fn unsupported(&self) -> impl Iterator<Item = &str> + '_ {
        each!(self, Unsupported).flatten().map(String::as_str)
    }

    /// Every method of every Allow header.
    pub fn allow(&self) -> impl Iterator<Item = &Method> + '_ {
        each!(self, Allow).flatten()
    }

    /// Values of the untyped headers called `name` (case-insensitive; a
    /// compact form such as `s` finds `Subject`). Typed names find nothing:
    /// use their getters.
    pub fn other<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let wanted = match classify(name) {
            Name::Other(full) => Some(full),
            Name::Typed(_) => None,
        };
        self.list.iter().filter_map(move |h| match (h, wanted) {
            (Header::Other(other), Some(wanted)) if other.name().eq_ignore_ascii_case(wanted) => {
                Some(other.value())
            }
            _ => None,
        })
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<I: IntoIterator<Item = Header>>(iter: I) -> Self {
        Headers { list: iter.into_iter().collect() }
    }
}

impl Extend<Header> for Headers {
    fn extend<I: IntoIterator<Item = Header>>(&mut self, iter: I) {
        self.list.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Transport;
    use crate::uri::Uri;

    #[test]
    fn getters_and_set() {
        let mut headers = Headers::new();
        headers.push(Via::new(Transport::Udp, "a", None, "z9hG4bK1").into());
        headers.push(Via::new(Transport::Udp, "b", None, "z9hG4bK2").into());
        headers.push(Header::MaxForwards(70));
        headers.push(Header::other("Subject", "hi").expect("valid"));
        headers.push(Header::Supported(vec!["path".into(), "gruu".into()]));
        headers.push(Header::Supported(vec!["outbound".into()]));
        assert_eq!(headers.top_via().map(|v| v.host.as_str()), Some("a"));
        assert_eq!(headers.vias().count(), 2);
        assert_eq!(headers.max_forwards(), Some(70));
        assert_eq!(headers.other("s").collect::<Vec<_>>(), vec!["hi"]);
        assert_eq!(headers.other("SUBJECT").count(), 1);
        assert_eq!(headers.other("Via").count(), 0);
        assert_eq!(headers.supported().collect::<Vec<_>>(), vec!["path", "gruu", "outbound"]);
        headers.set(Header::MaxForwards(69));
        assert_eq!(headers.max_forwards(), Some(69));
        assert_eq!(headers.position(|h| matches!(h, Header::MaxForwards(_))), Some(2));
        headers.set(Header::To(Box::new(NameAddr::new(Uri::sip(Some("bob"), "example.org")))));
        headers.to_mut().expect("just set").set_tag("t1");
        assert_eq!(headers.to().and_then(NameAddr::tag), Some("t1"));
        assert_eq!(headers.remove(99), None);
        assert_eq!(headers.len(), 7);
    }
}
