//! RFC 3261 §17 timer values (Table 4 of Appendix A, Timers L and M of
//! RFC 6026) and the small bookkeeping the state machines share.

/// The base timers every transaction timer is derived from.
///
/// | timer | value | used by |
/// |---|---|---|
/// | A, E, G | starts at T1, doubles (E and G capped at T2) | retransmissions, unreliable transports only |
/// | B, F, H, J (unreliable), L, M | 64·T1 | give up / linger |
/// | D | max(32 s, 64·T1) unreliable, 0 reliable | INVITE client absorbs final retransmissions |
/// | I, K | T4 unreliable, 0 reliable | absorb ACK / response retransmissions |
/// | J | 64·T1 unreliable, 0 reliable | non-INVITE server absorbs request retransmissions |
///
/// A zero T1 is treated as 1 ms and a T2 below T1 as T1, so a
/// misconfiguration cannot produce a zero retransmission interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate (RFC 3261 default 500 ms).
    pub t1_ms: u64,
    /// Longest retransmission interval for non-INVITE requests and INVITE
    /// responses (default 4 s).
    pub t2_ms: u64,
    /// Longest time a message stays in the network (default 5 s).
    pub t4_ms: u64,
}

impl Default for Timers {
    fn default() -> Self {
        Timers { t1_ms: 500, t2_ms: 4000, t4_ms: 5000 }
    }
}

impl Timers {
    /// T1, at least 1 ms.
    pub fn t1(&self) -> u64 {
        self.t1_ms.max(1)
    }

    /// T2, at least T1.
    pub fn t2(&self) -> u64 {
        self.t2_ms.max(self.t1())
    }

    /// 64·T1: Timers B, F, H, L and M, and J on unreliable transports.
    pub fn timeout_ms(&self) -> u64 {
        self.t1().saturating_mul(64)
    }

    /// Timer D: at least 32 s on unreliable transports (long enough to
    /// outlive the server's Timer H), zero on reliable ones.
    pub fn timer_d_ms(&self, reliable: bool) -> u64 {
        if reliable {
            0
        } else {
            self.timeout_ms().max(32_000)
        }
    }

    /// Timers I and K: T4 on unreliable transports, zero on reliable ones.
    pub fn timer_i_k_ms(&self, reliable: bool) -> u64 {
        if reliable {
            0
        } else {
            self.t4_ms
        }
    }

    /// Timer J: 64·T1 on unreliable transports, zero on reliable ones.
    pub fn timer_j_ms(&self, reliable: bool) -> u64 {
        if reliable {
            0
        } else {
            self.timeout_ms()
        }
    }
}

/// A running retransmission timer (A, E or G): when it fires next and the
/// interval that got it there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Retransmit {
    pub(crate) at_ms: u64,
    pub(crate) interval_ms: u64,
}

impl Retransmit {
    /// First firing one T1 from now.
    pub(crate) fn start(now_ms: u64, timers: &Timers) -> Retransmit {
        Retransmit { at_ms: now_ms.saturating_add(timers.t1()), interval_ms: timers.t1() }
    }

    /// Re-arms after a firing with the next interval. Counted from `now_ms`,
    /// not from the missed deadline, so a driver that wakes late gets one
    /// retransmission rather than a burst.
    pub(crate) fn rearm(&mut self, now_ms: u64, interval_ms: u64) {
        self.interval_ms = interval_ms.max(1);
        self.at_ms = now_ms.saturating_add(self.interval_ms);
    }
}

/// True when `deadline` is set and has passed.
pub(crate) fn due(deadline: Option<u64>, now_ms: u64) -> bool {
    deadline.is_some_and(|at| at <= now_ms)
}

/// The earliest of some optional deadlines.
pub(crate) fn earliest(deadlines: &[Option<u64>]) -> Option<u64> {
    deadlines.iter().flatten().copied().min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_values() {
        let t = Timers::default();
        assert_eq!(t.timeout_ms(), 32_000);
        assert_eq!(t.timer_d_ms(false), 32_000);
        assert_eq!(t.timer_d_ms(true), 0);
        assert_eq!(t.timer_i_k_ms(false), 5000);
        assert_eq!(t.timer_j_ms(false), 32_000);
        assert_eq!(t.timer_j_ms(true), 0);
        let slow = Timers { t1_ms: 1000, ..t };
        assert_eq!(slow.timer_d_ms(false), 64_000);
        let broken = Timers { t1_ms: 0, t2_ms: 0, t4_ms: 0 };
        assert_eq!((broken.t1(), broken.t2()), (1, 1));
        assert_eq!(earliest(&[None, Some(5), Some(3)]), Some(3));
        assert_eq!(earliest(&[None]), None);
        assert!(due(Some(3), 3) && !due(Some(4), 3) && !due(None, 3));
    }
}
