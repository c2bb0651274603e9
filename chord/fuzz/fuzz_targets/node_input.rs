//! Any sequence of frames into a member node must never panic.
#![no_main]

use chord::{Config, Node, NodeAddr, NodeRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let me = NodeRef::from_addr(NodeAddr::new("ws://fuzz:1").expect("valid literal"));
    let peer = NodeAddr::new("ws://peer:1").expect("valid literal");
    let mut node = Node::new(Config::default(), me, 1).expect("default config is valid");
    node.handle_start(0, None);
    let mut now = 0;
    // Frames separated by a length byte.
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let (frame, tail) = tail.split_at((len as usize).min(tail.len()));
        now += 100;
        node.handle_frame(now, &peer, frame);
        node.handle_timeout(now);
        while node.poll_transmit().is_some() {}
        while node.poll_event().is_some() {}
        rest = tail;
    }
});
