//! Crashes and churn in simulation.

mod common;

use std::collections::BTreeSet;

use chord::sim::Sim;
use chord::{Id, OpOutcome};
use common::{build_ring, run_op, settle_lists, sim};

fn key(i: u64) -> Id {
    Id::hash(format!("sip:crash{i}@example.org").as_bytes())
}

const KEYS: u64 = 300;

/// Builds a ring of 100, stores KEYS values and lets them replicate.
fn ring_with_values(sim: &mut Sim) {
    build_ring(sim, 100, 200);
    settle_lists(sim, 60_000);
    for i in 0..KEYS {
        let from = (i % 100) as usize;
        run_op(sim, from, |n, now| {
            n.put(
                now,
                key(i),
                b"c".to_vec(),
                i.to_be_bytes().to_vec(),
                1,
                3_600_000,
            )
        })
        .expect("put");
    }
    sim.run_for(5_000);
    let order = sim.ring_order();
    for i in 0..KEYS {
        for r in order.replicas(&key(i), 3) {
            assert_eq!(
                sim.node(r).local_get(sim.now_ms(), &key(i), None).len(),
                1,
                "key {i} not on n{r}"
            );
        }
    }
}

/// Crashes `victims`, waits for the ring, then checks that every key not in
/// `unrecoverable` is readable and back on its k = 3 true replicas.
fn crash_and_check(sim: &mut Sim, victims: &BTreeSet<usize>, unrecoverable: &BTreeSet<u64>) {
    for v in victims {
        sim.crash(*v);
    }
    let t0 = sim.now_ms();
    let ok = sim.run_until(120_000, 500, |s| s.check_ring().is_ok());
    assert!(ok, "ring did not recover: {:?}", sim.check_ring());
    println!("ring recovered {} ms after the crash", sim.now_ms() - t0);
    // A few replica rounds (2 s each) to restore k copies.
    sim.run_for(8_000);
    let order = sim.ring_order();
    let mut under_replicated = 0;
    for i in (0..KEYS).filter(|i| !unrecoverable.contains(i)) {
        let holders = order.replicas(&key(i), 3);
        let copies = holders
            .iter()
            .filter(|r| sim.node(**r).local_get(sim.now_ms(), &key(i), None).len() == 1)
            .count();
        if copies < 3 {
            under_replicated += 1;
        }
        let reader = order.nodes[(i as usize * 7) % order.nodes.len()].1;
        match run_op(sim, reader, |n, now| n.get(now, key(i), None)) {
            Ok(OpOutcome::Got { values, .. }) => {
                assert_eq!(values.len(), 1, "key {i} lost");
                assert_eq!(values[0].value, i.to_be_bytes().to_vec());
            }
            other => panic!("get of key {i} failed: {other:?}"),
        }
        // The lookup resolves to the true owner.
        match run_op(sim, reader, |n, now| n.lookup(now, key(i))) {
            Ok(OpOutcome::Lookup { owner, .. }) => assert_eq!(
                Some(owner.id),
                order.owner(&key(i)).map(|o| sim.node(o).me().id)
            ),
            other => panic!("lookup of key {i} failed: {other:?}"),
        }
    }
    assert_eq!(under_replicated, 0, "keys without 3 copies after repair");
}

/// 20 % of the nodes crash at once, chosen so that no k = 3 consecutive
/// nodes die (otherwise some key has no surviving copy and no replication
/// scheme could keep it). Failures are found by time-outs only.
#[test]
fn crash_of_20_percent_loses_no_value() {
    let (mut sim, _g) = sim("crash_of_20_percent_loses_no_value", 31, |c| {
        c.link_down_on_dead = false
    });
    ring_with_values(&mut sim);
    let order = sim.ring_order();
    let n = order.nodes.len();
    let mut dead_pos = BTreeSet::new();
    while dead_pos.len() < n / 5 {
        let p = sim.rng().below(n as u64) as usize;
        let d = |q: isize| dead_pos.contains(&(((p as isize + q).rem_euclid(n as isize)) as usize));
        // Reject p if it would complete a run of three dead neighbours.
        if dead_pos.contains(&p) || (d(-1) && d(-2)) || (d(-1) && d(1)) || (d(1) && d(2)) {
            continue;
        }
        dead_pos.insert(p);
    }
    let victims: BTreeSet<usize> = dead_pos.iter().map(|p| order.nodes[*p].1).collect();
    crash_and_check(&mut sim, &victims, &BTreeSet::new());
}

/// 20 % chosen uniformly at random, detected through link-down reports.
/// Keys whose three replicas all died are unrecoverable by construction;
/// every other key must survive.
#[test]
fn crash_of_random_20_percent_loses_only_keys_with_no_surviving_copy() {
    let (mut sim, _g) = sim(
        "crash_of_random_20_percent_loses_only_keys_with_no_surviving_copy",
        32,
        |_| {},
    );
    ring_with_values(&mut sim);
    let order = sim.ring_order();
    let mut victims = BTreeSet::new();
    while victims.len() < order.nodes.len() / 5 {
        victims.insert(order.nodes[sim.rng().below(order.nodes.len() as u64) as usize].1);
    }
    let unrecoverable: BTreeSet<u64> = (0..KEYS)
        .filter(|i| {
            order
                .replicas(&key(*i), 3)
                .iter()
                .all(|r| victims.contains(r))
        })
        .collect();
    println!(
        "{} of {KEYS} keys had all 3 replicas crash",
        unrecoverable.len()
    );
    crash_and_check(&mut sim, &victims, &unrecoverable);
}

/// A join or a crash every stabilization period for a minute, with 20
/// lookups per period from random members: at least 99 % succeed.
#[test]
fn churn_keeps_lookups_succeeding() {
    let (mut sim, _g) = sim("churn_keeps_lookups_succeeding", 33, |c| {
        c.link_down_on_dead = false
    });
    build_ring(&mut sim, 100, 200);
    settle_lists(&mut sim, 60_000);
    sim.run_for(20_000);
    let mut ops = Vec::new();
    let (mut joins, mut crashes) = (0, 0);
    for _period in 0..60 {
        let members = sim.members();
        if sim.rng().chance(0.5) || members.len() < 60 {
            sim.add_node_via_random();
            joins += 1;
        } else {
            let v = members[sim.rng().below(members.len() as u64) as usize];
            sim.crash(v);
            crashes += 1;
        }
        for _ in 0..20 {
            let members = sim.members();
            let from = members[sim.rng().below(members.len() as u64) as usize];
            let key = sim.random_id();
            let op = sim.lookup(from, key);
            ops.push((from, op));
        }
        sim.run_for(1_000);
    }
    sim.run_for(15_000);
    let (mut ok, mut failed, mut hops_total) = (0u32, Vec::new(), 0u64);
    for (from, op) in ops {
        if !sim.is_alive(from) {
            continue; // the asker itself crashed
        }
        match sim.take_result(from, op) {
            Some((hops, Ok(_))) => {
                ok += 1;
                hops_total += u64::from(hops);
            }
            Some((_, Err(e))) => failed.push(e),
            None => panic!("lookup {op:?} never finished"),
        }
    }
    let total = ok as usize + failed.len();
    let rate = f64::from(ok) / total as f64;
    println!(
        "churn: {joins} joins, {crashes} crashes; {ok}/{total} lookups ok ({:.2} %), mean hops {:.2}; failures {:?}",
        rate * 100.0,
        hops_total as f64 / f64::from(ok.max(1)),
        failed
    );
    assert!(
        rate >= 0.99,
        "only {:.2} % of lookups succeeded",
        rate * 100.0
    );
    let ok = sim.run_until(60_000, 1_000, |s| s.check_ring().is_ok());
    assert!(
        ok,
        "ring did not settle after churn: {:?}",
        sim.check_ring()
    );
}
