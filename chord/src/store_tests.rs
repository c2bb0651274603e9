//! Unit tests of the local store.

use super::*;

fn rec(key: u64, sk: &str, version: u64, ttl_ms: u64, value: Option<&str>) -> Record {
    Record {
        key: Id::from_u64(key),
        sub_key: sk.as_bytes().to_vec(),
        version,
        ttl_ms,
        value: value.map(|v| v.as_bytes().to_vec()),
    }
}

#[test]
fn newer_version_wins_and_stale_is_refused() {
    let cfg = Config::default();
    let mut s = Store::default();
    assert_eq!(
        s.apply(0, &rec(1, "a", 2, 1000, Some("x")), &cfg, true),
        Ok(Applied::Stored)
    );
    assert_eq!(
        s.apply(0, &rec(1, "a", 1, 1000, Some("old")), &cfg, true),
        Err(StoreError::Stale { current_version: 2 })
    );
    // An identical retry is fine.
    assert_eq!(
        s.apply(0, &rec(1, "a", 2, 1000, Some("x")), &cfg, true),
        Ok(Applied::Unchanged)
    );
    // Lenient merge ignores the stale copy.
    assert_eq!(
        s.apply(0, &rec(1, "a", 1, 1000, Some("old")), &cfg, false),
        Ok(Applied::Unchanged)
    );
    assert_eq!(
        s.apply(0, &rec(1, "a", 3, 1000, Some("y")), &cfg, true),
        Ok(Applied::Stored)
    );
    let got = s.get(10, &Id::from_u64(1), None);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].value, b"y");
    assert_eq!(got[0].ttl_ms, 990);
}

#[test]
fn tombstone_blocks_resurrection_and_outlives_value() {
    let cfg = Config::default();
    let mut s = Store::default();
    s.apply(0, &rec(1, "a", 1, 5000, Some("x")), &cfg, true)
        .expect("fresh key");
    s.apply(0, &rec(1, "a", 2, 100, None), &cfg, true)
        .expect("newer delete");
    assert!(s.get(0, &Id::from_u64(1), None).is_empty());
    // At 1000 ms the tombstone would have expired on its own TTL, but it
    // lives as long as the value it replaced.
    assert_eq!(
        s.apply(1000, &rec(1, "a", 1, 4000, Some("x")), &cfg, false),
        Ok(Applied::Unchanged)
    );
    assert!(s.get(1000, &Id::from_u64(1), None).is_empty());
    assert_eq!(s.counts().tombstones, 1);
    s.sweep(5000);
    assert_eq!(s.counts(), StoreCounts::default());
}

#[test]
fn expiry_and_prefix() {
    let cfg = Config::default();
    let mut s = Store::default();
    s.apply(0, &rec(1, "c/1", 1, 100, Some("a")), &cfg, true)
        .expect("ok");
    s.apply(0, &rec(1, "c/2", 1, 200, Some("b")), &cfg, true)
        .expect("ok");
    s.apply(0, &rec(1, "m/1", 1, 300, Some("c")), &cfg, true)
        .expect("ok");
    assert_eq!(s.get(0, &Id::from_u64(1), Some(b"c/")).len(), 2);
    assert_eq!(s.get(150, &Id::from_u64(1), Some(b"c/")).len(), 1);
    assert_eq!(s.sweep(250), 2);
    assert_eq!(s.counts().slots, 1);
    assert_eq!(s.sweep(300), 1);
    assert_eq!(s.counts(), StoreCounts::default());
}

#[test]
fn limits() {
    let cfg = Config {
        max_sub_keys_per_key: 2,
        max_keys: 2,
        max_value_bytes: 4,
        max_key_value_bytes: 8,
        ..Config::default()
    };
    let mut s = Store::default();
    assert_eq!(
        s.apply(0, &rec(1, "a", 1, 10, Some("12345")), &cfg, true),
        Err(StoreError::TooLarge)
    );
    assert_eq!(
        s.apply(0, &rec(1, "a", 1, 0, Some("1")), &cfg, true),
        Err(StoreError::BadTtl)
    );
    s.apply(0, &rec(1, "a", 1, 10, Some("1234")), &cfg, true)
        .expect("fits");
    assert_eq!(
        s.apply(0, &rec(1, "b", 1, 10, Some("1234")), &cfg, true),
        Err(StoreError::KeyFull)
    );
    s.apply(0, &rec(1, "b", 1, 10, Some("1")), &cfg, true)
        .expect("fits");
    assert_eq!(
        s.apply(0, &rec(1, "c", 1, 10, Some("")), &cfg, true),
        Err(StoreError::KeyFull)
    );
    s.apply(0, &rec(2, "a", 1, 10, Some("1")), &cfg, true)
        .expect("second key");
    assert_eq!(
        s.apply(0, &rec(3, "a", 1, 10, Some("1")), &cfg, true),
        Err(StoreError::StoreFull)
    );
    // Once expired, room comes back.
    assert_eq!(
        s.apply(20, &rec(1, "c", 1, 10, Some("")), &cfg, true),
        Ok(Applied::Stored)
    );
}

#[test]
fn digest_tracks_versions() {
    let cfg = Config::default();
    let mut a = Store::default();
    let mut b = Store::default();
    a.apply(0, &rec(1, "a", 1, 100, Some("x")), &cfg, true)
        .expect("ok");
    b.apply(5, &rec(1, "a", 1, 100, Some("x")), &cfg, true)
        .expect("ok");
    assert_eq!(
        a.digest(10, &Id::from_u64(1)),
        b.digest(10, &Id::from_u64(1))
    );
    b.apply(5, &rec(1, "a", 2, 100, None), &cfg, true)
        .expect("ok");
    assert_ne!(
        a.digest(10, &Id::from_u64(1)),
        b.digest(10, &Id::from_u64(1))
    );
    assert_eq!(a.digest(200, &Id::from_u64(1)), None);
}

#[test]
fn keys_in_wraps() {
    let cfg = Config::default();
    let mut s = Store::default();
    for k in [1u64, 5, 9] {
        s.apply(0, &rec(k, "", 1, 100, Some("v")), &cfg, true)
            .expect("ok");
    }
    let ids = |v: &[u64]| v.iter().map(|k| Id::from_u64(*k)).collect::<Vec<_>>();
    assert_eq!(s.keys_in(&Id::from_u64(1), &Id::from_u64(5)), ids(&[5]));
    assert_eq!(s.keys_in(&Id::from_u64(5), &Id::from_u64(1)), ids(&[9, 1]));
    assert_eq!(
        s.keys_in(&Id::from_u64(5), &Id::from_u64(5)),
        ids(&[9, 1, 5])
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn records() -> impl Strategy<Value = Vec<Record>> {
        let rec = (0u64..3, "[ab]", 1u64..6, proptest::option::of("[xyz]"))
            .prop_map(|(k, sk, v, val)| rec(k, &sk, v, 10_000, val.as_deref()));
        proptest::collection::vec(rec, 0..20)
    }

    proptest! {
        /// Replicas that merge the same records in any order end up equal,
        /// and each slot holds the highest version written.
        #[test]
        fn merges_converge_whatever_the_order(recs in records(), seed in any::<u64>()) {
            let cfg = Config::default();
            let mut a = Store::default();
            let mut b = Store::default();
            for r in &recs {
                a.apply(0, r, &cfg, false).expect("within limits");
            }
            let mut shuffled = recs.clone();
            let mut rng = crate::rng::Rng::new(seed);
            for i in (1..shuffled.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                shuffled.swap(i, j);
            }
            for r in &shuffled {
                b.apply(0, r, &cfg, false).expect("within limits");
            }
            for k in 0..3 {
                let key = Id::from_u64(k);
                prop_assert_eq!(a.digest(1, &key), b.digest(1, &key));
                for rec in a.records(1, &key) {
                    let max = recs.iter().filter(|r| r.key == key && r.sub_key == rec.sub_key).map(|r| r.version).max();
                    prop_assert_eq!(Some(rec.version), max);
                }
            }
            prop_assert_eq!(a.counts(), b.counts());
        }
    }
}
