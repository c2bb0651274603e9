//! The replicated store in simulation: put/get/delete, versions, expiry,
//! limits, hand-off on leave and join.

mod common;

use chord::{Config, Event, Id, Message, NodeAddr, OpError, OpOutcome};
use common::{build_ring, run_op, settle_lists, sim};

fn key(i: u64) -> Id {
    Id::hash(format!("sip:user{i}@example.org").as_bytes())
}

fn got(r: Result<OpOutcome, OpError>) -> Vec<(Vec<u8>, u64, Vec<u8>)> {
    match r {
        Ok(OpOutcome::Got { values, .. }) => values
            .into_iter()
            .map(|v| (v.sub_key, v.version, v.value))
            .collect(),
        other => panic!("expected values, got {other:?}"),
    }
}

#[test]
fn put_get_delete_replicated() {
    let (mut sim, _g) = sim("put_get_delete_replicated", 21, |_| {});
    build_ring(&mut sim, 20, 200);
    settle_lists(&mut sim, 60_000);
    let k = key(1);
    let r = run_op(&mut sim, 3, |n, now| {
        n.put(now, k, b"c1".to_vec(), b"ws://a".to_vec(), 1, 60_000)
    });
    assert!(matches!(r, Ok(OpOutcome::Stored { .. })), "{r:?}");
    run_op(&mut sim, 4, |n, now| {
        n.put(now, k, b"c2".to_vec(), b"ws://b".to_vec(), 1, 60_000)
    })
    .expect("put c2");
    let values = got(run_op(&mut sim, 7, |n, now| n.get(now, k, None)));
    assert_eq!(values.len(), 2);
    let filtered = got(run_op(&mut sim, 8, |n, now| {
        n.get(now, k, Some(b"c2".to_vec()))
    }));
    assert_eq!(filtered, vec![(b"c2".to_vec(), 1, b"ws://b".to_vec())]);
    // The owner and its two successors hold copies.
    sim.run_for(5_000);
    let replicas = sim.ring_order().replicas(&k, 3);
    for i in &replicas {
        assert_eq!(
            sim.node(*i).local_get(sim.now_ms(), &k, None).len(),
            2,
            "replica n{i}"
        );
    }
    run_op(&mut sim, 9, |n, now| {
        n.delete(now, k, b"c1".to_vec(), 2, 60_000)
    })
    .expect("delete");
    let values = got(run_op(&mut sim, 10, |n, now| n.get(now, k, None)));
    assert_eq!(values, vec![(b"c2".to_vec(), 1, b"ws://b".to_vec())]);
}

#[test]
fn stale_writes_lose_to_newer_versions() {
    let (mut sim, _g) = sim("stale_writes_lose_to_newer_versions", 22, |_| {});
    build_ring(&mut sim, 12, 200);
    let k = key(2);
    run_op(&mut sim, 1, |n, now| {
        n.put(now, k, b"c".to_vec(), b"v5".to_vec(), 5, 60_000)
    })
    .expect("v5");
    let r = run_op(&mut sim, 2, |n, now| {
        n.put(now, k, b"c".to_vec(), b"v4".to_vec(), 4, 60_000)
    });
    assert_eq!(r, Err(OpError::Stale { current_version: 5 }));
    run_op(&mut sim, 3, |n, now| {
        n.delete(now, k, b"c".to_vec(), 6, 1_000)
    })
    .expect("delete v6");
    // A stale put cannot resurrect the value, even after the tombstone's
    // own TTL, because the tombstone outlives the value it replaced.
    sim.run_for(5_000);
    let r = run_op(&mut sim, 4, |n, now| {
        n.put(now, k, b"c".to_vec(), b"v5".to_vec(), 5, 60_000)
    });
    assert_eq!(r, Err(OpError::Stale { current_version: 6 }));
    assert!(got(run_op(&mut sim, 5, |n, now| n.get(now, k, None))).is_empty());
    run_op(&mut sim, 6, |n, now| {
        n.put(now, k, b"c".to_vec(), b"v7".to_vec(), 7, 60_000)
    })
    .expect("v7");
    assert_eq!(
        got(run_op(&mut sim, 7, |n, now| n.get(now, k, None))),
        vec![(b"c".to_vec(), 7, b"v7".to_vec())]
    );
}

#[test]
fn expiry_drops_values_everywhere() {
    let (mut sim, _g) = sim("expiry_drops_values_everywhere", 23, |_| {});
    build_ring(&mut sim, 12, 200);
    let k = key(3);
    run_op(&mut sim, 1, |n, now| {
        n.put(now, k, b"".to_vec(), b"x".to_vec(), 1, 4_000)
    })
    .expect("put");
    sim.run_for(2_500);
    assert_eq!(
        got(run_op(&mut sim, 2, |n, now| n.get(now, k, None))).len(),
        1
    );
    sim.run_for(4_000);
    assert!(got(run_op(&mut sim, 2, |n, now| n.get(now, k, None))).is_empty());
    sim.run_for(2_000);
    for i in sim.members() {
        assert!(
            sim.node(i).local_keys().is_empty(),
            "n{i} still holds the key"
        );
        assert_eq!(sim.node(i).store_counts().slots, 0);
    }
}

#[test]
fn limits_are_enforced() {
    let (mut sim, _g) = sim("limits_are_enforced", 24, |c| {
        c.node = Config {
            max_sub_keys_per_key: 2,
            max_value_bytes: 100,
            ..Config::default()
        };
    });
    build_ring(&mut sim, 6, 200);
    let k = key(4);
    let r = run_op(&mut sim, 1, |n, now| {
        n.put(now, k, b"a".to_vec(), vec![0; 101], 1, 1_000)
    });
    assert_eq!(r, Err(OpError::TooLarge));
    let r = run_op(&mut sim, 1, |n, now| {
        n.put(now, k, b"a".to_vec(), vec![0; 10], 1, u64::MAX)
    });
    assert_eq!(r, Err(OpError::BadTtl));
    run_op(&mut sim, 1, |n, now| {
        n.put(now, k, b"a".to_vec(), vec![0; 10], 1, 60_000)
    })
    .expect("a");
    run_op(&mut sim, 1, |n, now| {
        n.put(now, k, b"b".to_vec(), vec![0; 10], 1, 60_000)
    })
    .expect("b");
    let r = run_op(&mut sim, 1, |n, now| {
        n.put(now, k, b"c".to_vec(), vec![0; 10], 1, 60_000)
    });
    assert_eq!(r, Err(OpError::KeyFull));

    // Malformed and out-of-bounds remote input is dropped and counted.
    let from = NodeAddr::new("sim://attacker").expect("valid");
    let before = sim.node(2).counters();
    sim.with_node(2, |n, now| {
        n.handle_frame(now, &from, &[0, 1, 0xff, 0xff]);
        n.handle_frame(now, &from, &[9, 9]);
        n.handle_frame(now, &from, &vec![0; 2 << 20]);
        let me = n.me().clone();
        n.handle_message(
            now,
            &from,
            Message::NextHop {
                req: 1,
                hop: 1,
                candidates: vec![me; 40],
                successors: vec![],
            },
        );
        n.handle_message(
            now,
            &from,
            Message::GetReply {
                req: 1,
                values: vec![],
            },
        );
    });
    let after = sim.node(2).counters();
    assert_eq!(after.frames_malformed - before.frames_malformed, 3);
    assert_eq!(
        after.messages_out_of_bounds - before.messages_out_of_bounds,
        1
    );
    assert_eq!(after.answers_unexpected - before.answers_unexpected, 1);
    let status = serde_json::to_value(sim.node(2).status()).expect("status serialises");
    assert_eq!(status["counters"]["frames_malformed"], 3);
}

/// With one copy per key (k = 1) a key survives a leave only through the
/// hand-off, so this checks the hand-off itself.
#[test]
fn graceful_leave_hands_values_to_successor() {
    let (mut sim, _g) = sim("graceful_leave_hands_values_to_successor", 25, |c| {
        c.node.replication_factor = 1;
    });
    build_ring(&mut sim, 16, 200);
    settle_lists(&mut sim, 60_000);
    for i in 0..100 {
        run_op(&mut sim, (i % 16) as usize, |n, now| {
            n.put(
                now,
                key(i),
                b"".to_vec(),
                i.to_be_bytes().to_vec(),
                1,
                600_000,
            )
        })
        .expect("put");
    }
    let order = sim.ring_order();
    let leaver = order.nodes[5].1;
    let succ = order.nodes[6].1;
    let held: Vec<Id> = sim.node(leaver).local_keys();
    assert!(!held.is_empty(), "pick a node that holds keys");
    sim.leave(leaver);
    sim.run_for(3_000);
    let events = sim.take_events(leaver);
    assert!(
        events.iter().any(|e| matches!(e, Event::LeaveDone { acknowledged: true, records_handed_off } if *records_handed_off == held.len())),
        "{events:?}"
    );
    for k in &held {
        assert_eq!(sim.node(succ).local_get(sim.now_ms(), k, None).len(), 1);
    }
    settle_lists(&mut sim, 30_000);
    for i in 0..100 {
        let v = got(run_op(&mut sim, succ, |n, now| n.get(now, key(i), None)));
        assert_eq!(v.len(), 1, "key {i} lost");
    }
}

/// A node that joins takes over its share: the keys in (pred, new] move
/// to it, and (with k = 1) the old holder drops them.
#[test]
fn join_takes_over_its_share() {
    let (mut sim, _g) = sim("join_takes_over_its_share", 26, |c| {
        c.node.replication_factor = 1;
    });
    build_ring(&mut sim, 16, 200);
    for i in 0..200 {
        run_op(&mut sim, (i % 16) as usize, |n, now| {
            n.put(
                now,
                key(i),
                b"".to_vec(),
                i.to_be_bytes().to_vec(),
                1,
                600_000,
            )
        })
        .expect("put");
    }
    let newcomer = sim.add_node(Some(0));
    let ok = sim.run_until(30_000, 500, |s| s.check_ring().is_ok());
    assert!(ok, "{:?}", sim.check_ring());
    sim.run_for(20_000);
    let order = sim.ring_order();
    let mine: Vec<Id> = (0..200)
        .map(key)
        .filter(|k| order.owner(k) == Some(newcomer))
        .collect();
    assert!(!mine.is_empty(), "the newcomer should own some keys");
    let held = sim.node(newcomer).local_keys();
    assert_eq!(held, {
        let mut m = mine.clone();
        m.sort();
        m
    });
    // Nobody else still holds them.
    for i in sim.members() {
        if i != newcomer {
            assert!(
                mine.iter()
                    .all(|k| sim.node(i).local_get(sim.now_ms(), k, None).is_empty()),
                "n{i}"
            );
        }
    }
    for i in 0..200 {
        assert_eq!(
            got(run_op(&mut sim, 3, |n, now| n.get(now, key(i), None))).len(),
            1,
            "key {i}"
        );
    }
}

/// Reads that reach a just-joined owner before its range has been pushed
/// to it (the push and the read travel different links) must not come back
/// empty: for `join_read_through_ms` the newcomer reads through to its
/// successor. The wide latency spread makes reads overtake pushes.
fn reads_during_join(name: &'static str, read_through_ms: u64) -> Vec<u64> {
    let (mut sim, _g) = sim(name, 27, |c| {
        c.latency_min_ms = 1;
        c.latency_max_ms = 300;
        c.node.join_read_through_ms = read_through_ms;
    });
    build_ring(&mut sim, 10, 300);
    let keys = 300u64;
    for i in 0..keys {
        run_op(&mut sim, (i % 10) as usize, |n, now| n.put(now, key(i), b"c".to_vec(), i.to_be_bytes().to_vec(), 1, 600_000))
            .expect("put");
    }
    sim.add_node(Some(0));
    // For 8 s of virtual time, every key is read every 400 ms from a
    // rotating member, while the newcomer settles in.
    let mut missing = Vec::new();
    let mut in_flight = Vec::new();
    for round in 0..20u64 {
        for i in 0..keys {
            let reader = ((i + round) % 10) as usize;
            let op = sim.with_node(reader, |n, now| n.get(now, key(i), None));
            in_flight.push((reader, op, i));
        }
        sim.run_for(400);
        in_flight.retain(|(reader, op, i)| match sim.take_result(*reader, *op) {
            Some((_, Ok(OpOutcome::Got { values, .. }))) => {
                if values.is_empty() {
                    missing.push(*i);
                }
                false
            }
            Some((_, other)) => panic!("read of key {i} failed: {other:?}"),
            None => true,
        });
    }
    sim.run_for(30_000);
    for (reader, op, i) in in_flight {
        match sim.take_result(reader, op) {
            Some((_, Ok(OpOutcome::Got { values, .. }))) if values.is_empty() => missing.push(i),
            Some((_, Ok(_))) => {}
            other => panic!("read of key {i}: {other:?}"),
        }
    }
    missing
}

#[test]
fn reads_during_a_join_never_come_back_empty() {
    let missing = reads_during_join("reads_during_a_join_never_come_back_empty", 5_000);
    assert!(missing.is_empty(), "{} empty reads during the join: keys {missing:?}", missing.len());
}

/// The mechanism itself: a node that has just joined (empty store) sends
/// a read on to its successor and answers with what comes back; with the
/// window off it answers at once from its (empty) store.
fn newcomer_answers(read_through_ms: u64) -> Vec<Message> {
    let (mut sim, _g) = sim("newcomer_answers", 28, |c| c.node.join_read_through_ms = read_through_ms);
    build_ring(&mut sim, 5, 300);
    let newcomer = sim.add_node(Some(0));
    let ok = sim.run_until(10_000, 10, |s| s.node(newcomer).state() == chord::NodeState::Member);
    assert!(ok, "the newcomer joined");
    let reader = NodeAddr::new("ws://reader.invalid:1").expect("addr");
    let k = key(7);
    sim.with_node(newcomer, |n, now| {
        let mut out = Vec::new();
        while n.poll_transmit().is_some() {}
        n.handle_message(now, &reader, Message::Get { req: 999, key: k, prefix: None, local_only: false });
        let mut forwarded = None;
        while let Some(t) = n.poll_transmit() {
            if let Message::Get { req, local_only: true, .. } = &t.msg {
                forwarded = Some((t.to.clone(), *req));
            }
            out.push(t.msg);
        }
        if let Some((successor, req)) = forwarded {
            let value = chord::Value { sub_key: b"c".to_vec(), version: 3, ttl_ms: 60_000, value: b"v".to_vec() };
            n.handle_message(now, &successor, Message::GetReply { req, values: vec![value] });
            while let Some(t) = n.poll_transmit() {
                out.push(t.msg);
            }
            assert_eq!(n.local_get(now, &k, None).len(), 1, "the successor's value is merged in");
        }
        out
    })
}

#[test]
fn a_newcomer_reads_through_to_its_successor() {
    let out = newcomer_answers(5_000);
    assert!(matches!(out.first(), Some(Message::Get { local_only: true, .. })), "{out:?}");
    let reply = out.iter().find_map(|m| match m {
        Message::GetReply { req: 999, values } => Some(values.clone()),
        _ => None,
    });
    assert_eq!(reply.map(|v| v.len()), Some(1), "{out:?}");
    // Window off: an immediate, empty answer.
    let out = newcomer_answers(0);
    assert!(matches!(out.first(), Some(Message::GetReply { req: 999, values }) if values.is_empty()), "{out:?}");
}
