//! Property tests: interval arithmetic, identifier encodings, the frame
//! codec, and ring invariants on small simulated rings.

use chord::sim::{RingOrder, Sim, SimConfig};
use chord::{decode_frame, encode_frame, Id, Message, NodeAddr, NodeRef};
use proptest::prelude::*;

fn id() -> impl Strategy<Value = Id> {
    // Mix uniform ids with ids near 0 and near the top so wraparound is hit.
    prop_oneof![
        any::<[u8; 20]>().prop_map(Id::from_bytes),
        any::<u64>().prop_map(Id::from_u64),
        any::<u64>().prop_map(|v| Id::MAX.wrapping_sub(&Id::from_u64(v))),
    ]
}

/// Schoolbook byte-wise subtraction: the model the limb arithmetic must match.
fn model_sub(a: &Id, b: &Id) -> [u8; 20] {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut out = [0u8; 20];
    let mut borrow = 0i16;
    for i in (0..20).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

proptest! {
    #[test]
    fn sub_matches_model_and_inverts_add(a in id(), b in id()) {
        prop_assert_eq!(*a.wrapping_sub(&b).as_bytes(), model_sub(&a, &b));
        prop_assert_eq!(a.wrapping_add(&b).wrapping_sub(&b), a);
        prop_assert_eq!(a.wrapping_add(&b), b.wrapping_add(&a));
    }

    #[test]
    fn a_point_is_in_exactly_one_part_of_the_circle(x in id(), a in id(), b in id()) {
        prop_assume!(a != b);
        let parts = [x == a, x.in_open(&a, &b), x == b, x.in_open(&b, &a)];
        prop_assert_eq!(parts.iter().filter(|p| **p).count(), 1);
    }

    #[test]
    fn half_open_is_open_plus_end(x in id(), a in id(), b in id()) {
        if a == b {
            prop_assert!(x.in_half_open(&a, &b));
        } else {
            prop_assert_eq!(x.in_half_open(&a, &b), x.in_open(&a, &b) || x == b);
        }
        prop_assert!(!a.in_open(&a, &b));
    }

    #[test]
    fn open_interval_is_distance_order(x in id(), a in id(), b in id()) {
        prop_assume!(a != b && x != a);
        prop_assert_eq!(x.in_open(&a, &b), a.distance_to(&x) < a.distance_to(&b));
    }

    #[test]
    fn finger_starts_are_powers_of_two_away(x in id(), i in 0usize..160) {
        prop_assert_eq!(x.finger_start(i).wrapping_sub(&x), Id::pow2(i));
        prop_assert!(x.finger_start(i).in_open(&x, &x));
    }

    #[test]
    fn id_text_and_serde_round_trip(x in id()) {
        prop_assert_eq!(x.to_string().parse::<Id>().ok(), Some(x));
        let json = serde_json::to_string(&x).expect("ids serialise");
        prop_assert_eq!(serde_json::from_str::<Id>(&json).ok(), Some(x));
    }

    #[test]
    fn owner_is_the_node_whose_range_holds_the_key(ids in prop::collection::btree_set(id(), 1..40), key in id()) {
        let nodes: Vec<(Id, usize)> = ids.iter().copied().enumerate().map(|(i, id)| (id, i)).collect();
        let order = RingOrder { nodes: nodes.clone() };
        let owner = order.owner(&key).expect("non-empty ring");
        let pos = nodes.iter().position(|(_, i)| *i == owner).expect("owner is a node");
        let pred = nodes[(pos + nodes.len() - 1) % nodes.len()].0;
        prop_assert!(key.in_half_open(&pred, &nodes[pos].0));
    }

    #[test]
    fn frames_round_trip(req in any::<u64>(), hop in any::<u8>(), key in id(), addrs in prop::collection::vec("[a-z0-9:/.]{1,40}", 0..8)) {
        let nodes: Vec<NodeRef> = addrs.iter().map(|a| NodeRef::from_addr(NodeAddr::new(a.clone()).expect("printable"))).collect();
        for msg in [
            Message::FindSuccessor { req, key, hop },
            Message::NextHop { req, hop, candidates: nodes.clone(), successors: nodes.clone() },
            Message::GetNeighbours { req },
        ] {
            prop_assert_eq!(decode_frame(&encode_frame(&msg), 1 << 20).ok(), Some(msg));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_frame(&bytes, 1 << 20);
        let mut framed = chord::PROTOCOL_VERSION.to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        let _ = decode_frame(&framed, 1 << 20);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Ring invariants on small rings: whatever the seed, size and join
    /// pace, the ring converges (successor and predecessor of each node are
    /// its true neighbours, successor lists exact) and lookups from any
    /// node find the true owner.
    #[test]
    fn small_rings_converge_and_route_correctly(seed in any::<u64>(), n in 2usize..40, spacing_ms in 0u64..400) {
        let mut sim = Sim::new(SimConfig { seed, ..SimConfig::default() });
        sim.grow_ring(n, spacing_ms);
        prop_assert!(sim.wait_converged(n, 300_000).is_ok(), "seed {seed}: {:?}", sim.check_ring());
        let ok = sim.run_until(60_000, 1_000, |s| s.check_successor_lists().is_ok());
        prop_assert!(ok, "seed {seed}: {:?}", sim.check_successor_lists());
        let stats = sim.measure_lookups(50, 20_000);
        prop_assert_eq!(stats.hops.len(), 50, "seed {}: {:?}", seed, stats);
        prop_assert_eq!(stats.wrong_owner, 0);
    }
}
