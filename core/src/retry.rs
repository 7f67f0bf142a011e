//! When to try a request again: a sans-IO retry policy.
//!
//! The policy reads no clock and draws no randomness of its own: the caller passes `now_ms`
//! (Unix milliseconds) and an RNG, and gets back a [`Decision`] — retry at an instant, or
//! give up and why. The rules follow KSeF's limits (`limity-api.md`) and RFC 9110:
//!
//! - 429 is retried after `Retry-After` (seconds or an HTTP-date), whatever the method: the
//!   rate limiter refused the request before it was processed;
//! - 5xx, 408 and transport failures are retried only when the request is safe to repeat
//!   (`GET`/`PUT`/`DELETE`, or a `POST` the caller declares harmless): a lost response to
//!   `POST /sessions/online/{ref}/invoices` may mean the invoice was accepted, and a blind
//!   resend gives status 440 (duplicate);
//! - TLS failures and answers over the size cap are never retried (they would fail again);
//! - other 4xx (and 2xx/3xx) are never retried;
//! - waits use exponential backoff with full jitter (`uniform(0, min(max, base·2^(n-1)))`);
//! - no retry is scheduled past the attempt limit or the total deadline.
//!
//! ```
//! use ksef::retry::{Decision, Outcome, RetryPolicy};
//!
//! let mut policy = RetryPolicy::new(5, 500, 30_000, 120_000);
//! policy.start(1_000_000);
//! let mut rng = rand_core::OsRng;
//! let outcome = Outcome::Status { status: 429, retry_after_ms: Some(30_000) };
//! match policy.decide(1_000_100, 1, &outcome, false, &mut rng) {
//!     Decision::Retry { at_ms } => assert_eq!(at_ms, 1_030_100),
//!     Decision::GiveUp(reason) => panic!("{reason}"),
//! }
//! ```

use core::fmt;

use rand_core::RngCore;

use crate::http::{Response, TransportError, TransportErrorKind};

/// What the last attempt produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response arrived with this status.
    Status {
        /// The HTTP status.
        status: u16,
        /// The wait asked for by `Retry-After`, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// No response: the transport failed.
    Transport(TransportErrorKind),
}

impl Outcome {
    /// The outcome of a response (reads `Retry-After` against `now_ms`).
    pub fn of_response(response: &Response, now_ms: u64) -> Outcome {
        Outcome::Status {
            status: response.status,
            retry_after_ms: response.retry_after_ms(now_ms),
        }
    }

    /// The outcome of a [`crate::http::Transport::send`] call.
    pub fn of_result(result: &Result<Response, TransportError>, now_ms: u64) -> Outcome {
        match result {
            Ok(r) => Outcome::of_response(r, now_ms),
            Err(e) => Outcome::Transport(e.kind),
        }
    }
}

/// Why no further attempt will be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// The attempt did not fail (2xx or 3xx): nothing to retry.
    NotAnError,
    /// The status is final (4xx other than 408/429): repeating cannot help.
    NotRetryable(u16),
    /// The failure is retryable, but the request is not safe to repeat (it may have been
    /// processed).
    UnsafeToRepeat,
    /// The transport failure will not go away by trying again (TLS certificate check, an
    /// answer over the size cap).
    Permanent,
    /// The attempt limit is reached.
    MaxAttempts,
    /// The next attempt would start after the total deadline.
    Deadline,
}

impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GiveUpReason::NotAnError => f.write_str("the request did not fail"),
            GiveUpReason::NotRetryable(s) => write!(f, "HTTP {s} is not retryable"),
            GiveUpReason::UnsafeToRepeat => {
                f.write_str("the request may have been processed and is not safe to repeat")
            }
            GiveUpReason::Permanent => f.write_str("the failure is permanent"),
            GiveUpReason::MaxAttempts => f.write_str("no attempts left"),
            GiveUpReason::Deadline => f.write_str("the next attempt would pass the deadline"),
        }
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send the request again at `at_ms` (Unix milliseconds).
    Retry {
        /// When to send it again.
        at_ms: u64,
    },
    /// Stop; return the last outcome to the caller.
    GiveUp(GiveUpReason),
}

/// Exponential backoff with full jitter, `Retry-After`, an attempt limit and a deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (1 = never retry).
    pub max_attempts: u32,
    /// The backoff cap before the first retry, in milliseconds; doubled per attempt.
    pub base_backoff_ms: u64,
    /// The largest backoff cap, in milliseconds.
    pub max_backoff_ms: u64,
    /// The time allowed for all attempts and waits, from [`RetryPolicy::start`].
    pub total_ms: u64,
    started_at_ms: Option<u64>,
}

impl Default for RetryPolicy {
    /// 5 attempts, 500 ms base, 30 s cap, 2 minutes in total.
    fn default() -> Self {
        RetryPolicy::new(5, 500, 30_000, 120_000)
    }
}

impl RetryPolicy {
    /// A policy; call [`RetryPolicy::start`] before the first attempt.
    pub const fn new(
        max_attempts: u32,
        base_backoff_ms: u64,
        max_backoff_ms: u64,
        total_ms: u64,
    ) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_backoff_ms,
            max_backoff_ms,
            total_ms,
            started_at_ms: None,
        }
    }

    /// Starts the deadline clock at `now_ms` (before the first attempt). Without it, the
    /// first [`RetryPolicy::decide`] starts it.
    pub fn start(&mut self, now_ms: u64) {
        self.started_at_ms = Some(now_ms);
    }

    /// The instant after which no attempt starts, once started.
    pub fn deadline_ms(&self) -> Option<u64> {
        self.started_at_ms.map(|s| s.saturating_add(self.total_ms))
    }

    /// The backoff cap before retry number `attempt` (1-based): `min(max, base·2^(attempt-1))`.
    pub fn backoff_cap_ms(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(63);
        self.base_backoff_ms
            .saturating_mul(1u64 << shift)
            .min(self.max_backoff_ms)
    }

    /// Decides after attempt number `attempt` (1 for the first) ended at `now_ms` with
    /// `outcome`. `safe_to_repeat`: the request has no effect when sent twice (an idempotent
    /// method, or the caller knows so). Randomness for the jitter comes from `rng`.
    pub fn decide(
        &mut self,
        now_ms: u64,
        attempt: u32,
        outcome: &Outcome,
        safe_to_repeat: bool,
        rng: &mut impl RngCore,
    ) -> Decision {
        let deadline = match self.deadline_ms() {
            Some(d) => d,
            None => {
                self.start(now_ms);
                now_ms.saturating_add(self.total_ms)
            }
        };
        let retry_after = match *outcome {
            Outcome::Status { status, .. } if status < 400 => {
                return Decision::GiveUp(GiveUpReason::NotAnError)
            }
            Outcome::Status {
                status: 429,
                retry_after_ms,
            } => retry_after_ms,
            Outcome::Status {
                status,
                retry_after_ms,
            } if status == 408 || status >= 500 => {
                if !safe_to_repeat {
                    return Decision::GiveUp(GiveUpReason::UnsafeToRepeat);
                }
                retry_after_ms
            }
            Outcome::Status { status, .. } => {
                return Decision::GiveUp(GiveUpReason::NotRetryable(status))
            }
            // A failed certificate check or an oversized answer fails the same way again.
            Outcome::Transport(TransportErrorKind::Tls | TransportErrorKind::ResponseTooLarge) => {
                return Decision::GiveUp(GiveUpReason::Permanent)
            }
            Outcome::Transport(_) => {
                if !safe_to_repeat {
                    return Decision::GiveUp(GiveUpReason::UnsafeToRepeat);
                }
                None
            }
        };
        if attempt >= self.max_attempts {
            return Decision::GiveUp(GiveUpReason::MaxAttempts);
        }
        let wait = match retry_after {
            // The server's word beats our backoff; it is not shortened by the cap.
            Some(ms) => ms,
            None => {
                let cap = self.backoff_cap_ms(attempt);
                match cap.checked_add(1) {
                    Some(n) => rng.next_u64() % n,
                    None => rng.next_u64(),
                }
            }
        };
        let at_ms = now_ms.saturating_add(wait);
        if at_ms > deadline {
            return Decision::GiveUp(GiveUpReason::Deadline);
        }
        Decision::Retry { at_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_and_oversized_answers_are_not_retried() {
        let mut rng = XorShift(7);
        for kind in [
            TransportErrorKind::Tls,
            TransportErrorKind::ResponseTooLarge,
        ] {
            let mut p = RetryPolicy::default();
            let d = p.decide(0, 1, &Outcome::Transport(kind), true, &mut rng);
            assert_eq!(d, Decision::GiveUp(GiveUpReason::Permanent));
        }
        let mut p = RetryPolicy::default();
        let d = p.decide(
            0,
            1,
            &Outcome::Transport(TransportErrorKind::Io),
            true,
            &mut rng,
        );
        assert!(matches!(d, Decision::Retry { .. }));
    }

    /// xorshift64*: deterministic, so every run draws the same jitter.
    struct XorShift(u64);

    impl RngCore for XorShift {
        fn next_u32(&mut self) -> u32 {
            (self.next_u64() >> 32) as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            rand_core::impls::fill_bytes_via_next(self, dest)
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    const T0: u64 = 1_763_690_000_000;

    fn status(status: u16) -> Outcome {
        Outcome::Status {
            status,
            retry_after_ms: None,
        }
    }

    fn policy() -> RetryPolicy {
        let mut p = RetryPolicy::new(6, 500, 4_000, 60_000);
        p.start(T0);
        p
    }

    #[test]
    fn retry_after_seconds_is_honoured_even_for_post() {
        let mut p = policy();
        let resp = Response::new(
            429,
            alloc::vec![("retry-after".into(), "30".into())],
            alloc::vec![],
        );
        let o = Outcome::of_response(&resp, T0);
        let d = p.decide(T0 + 5, 1, &o, false, &mut XorShift(1));
        assert_eq!(
            d,
            Decision::Retry {
                at_ms: T0 + 5 + 30_000
            }
        );
    }

    #[test]
    fn retry_after_http_date_is_honoured() {
        // 2025-11-21T01:53:20Z = 1_763_690_000 s; the date says 45 s later.
        let resp = Response::new(
            429,
            alloc::vec![("Retry-After".into(), "Fri, 21 Nov 2025 01:54:05 GMT".into())],
            alloc::vec![],
        );
        let o = Outcome::of_response(&resp, T0);
        assert_eq!(
            o,
            Outcome::Status {
                status: 429,
                retry_after_ms: Some(45_000)
            }
        );
        let d = policy().decide(T0, 1, &o, false, &mut XorShift(7));
        assert_eq!(d, Decision::Retry { at_ms: T0 + 45_000 });
        // A date in the past means "now".
        let late = Outcome::of_response(&resp, T0 + 100_000);
        assert_eq!(
            late,
            Outcome::Status {
                status: 429,
                retry_after_ms: Some(0)
            }
        );
    }

    #[test]
    fn jitter_stays_within_the_doubling_cap() {
        let p0 = policy();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for attempt in 1..6u32 {
            let cap = p0.backoff_cap_ms(attempt);
            assert_eq!(cap, (500u64 << (attempt - 1)).min(4_000));
            let mut seen_low = false;
            let mut seen_high = false;
            for _ in 0..2000 {
                let mut p = p0.clone();
                match p.decide(T0, attempt, &status(503), true, &mut rng) {
                    Decision::Retry { at_ms } => {
                        let wait = at_ms - T0;
                        assert!(wait <= cap, "attempt {attempt}: {wait} > {cap}");
                        seen_low |= wait < cap / 4;
                        seen_high |= wait > cap * 3 / 4;
                    }
                    d => panic!("{d:?}"),
                }
            }
            // Full jitter spreads over the whole range, not just near the cap.
            assert!(seen_low && seen_high, "attempt {attempt}");
        }
    }

    #[test]
    fn cap_holds_for_huge_attempt_numbers() {
        let p = RetryPolicy::new(u32::MAX, 500, 4_000, u64::MAX);
        assert_eq!(p.backoff_cap_ms(1), 500);
        assert_eq!(p.backoff_cap_ms(64), 4_000);
        assert_eq!(p.backoff_cap_ms(u32::MAX), 4_000);
        let huge = RetryPolicy::new(3, u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(huge.backoff_cap_ms(3), u64::MAX);
        let mut h = huge.clone();
        h.start(T0);
        assert!(matches!(
            h.decide(T0, 1, &status(500), true, &mut XorShift(3)),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn never_waits_past_the_deadline() {
        let mut p = policy();
        // 20 s left; the server asks for 30 s.
        let o = Outcome::Status {
            status: 429,
            retry_after_ms: Some(30_000),
        };
        assert_eq!(
            p.decide(T0 + 40_000, 1, &o, true, &mut XorShift(1)),
            Decision::GiveUp(GiveUpReason::Deadline)
        );
        // Exactly at the deadline is still allowed.
        assert_eq!(
            p.decide(T0 + 30_000, 1, &o, true, &mut XorShift(1)),
            Decision::Retry { at_ms: T0 + 60_000 }
        );
        // Jittered backoff never lands past it either.
        let mut rng = XorShift(42);
        for _ in 0..500 {
            match p.decide(T0 + 59_000, 3, &status(502), true, &mut rng) {
                Decision::Retry { at_ms } => assert!(at_ms <= T0 + 60_000),
                Decision::GiveUp(r) => assert_eq!(r, GiveUpReason::Deadline),
            }
        }
    }

    #[test]
    fn unsafe_post_is_not_retried_after_a_transport_error() {
        let mut p = policy();
        for kind in [
            TransportErrorKind::Timeout,
            TransportErrorKind::Io,
            TransportErrorKind::Connect,
            TransportErrorKind::Other,
        ] {
            let err: Result<Response, TransportError> = Err(TransportError::new(kind, "x"));
            let o = Outcome::of_result(&err, T0);
            assert_eq!(
                p.decide(T0, 1, &o, false, &mut XorShift(1)),
                Decision::GiveUp(GiveUpReason::UnsafeToRepeat)
            );
            assert!(matches!(
                p.decide(T0, 1, &o, true, &mut XorShift(1)),
                Decision::Retry { .. }
            ));
        }
        for s in [408, 500, 502, 503, 504] {
            assert_eq!(
                p.decide(T0, 1, &status(s), false, &mut XorShift(1)),
                Decision::GiveUp(GiveUpReason::UnsafeToRepeat)
            );
        }
    }

    #[test]
    fn final_statuses_are_not_retried() {
        let mut p = policy();
        for s in [400, 401, 403, 404, 409, 410, 413, 415, 422] {
            assert_eq!(
                p.decide(T0, 1, &status(s), true, &mut XorShift(1)),
                Decision::GiveUp(GiveUpReason::NotRetryable(s))
            );
        }
        for s in [200, 201, 202, 204, 301] {
            assert_eq!(
                p.decide(T0, 1, &status(s), true, &mut XorShift(1)),
                Decision::GiveUp(GiveUpReason::NotAnError)
            );
        }
        assert!(matches!(
            p.decide(T0, 1, &status(408), true, &mut XorShift(1)),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn max_attempts_is_the_total_including_the_first() {
        let mut p = policy();
        let mut rng = XorShift(5);
        let mut now = T0;
        let mut attempts = 1;
        loop {
            match p.decide(now, attempts, &status(503), true, &mut rng) {
                Decision::Retry { at_ms } => {
                    assert!(at_ms >= now);
                    now = at_ms;
                    attempts += 1;
                }
                Decision::GiveUp(r) => {
                    assert_eq!(r, GiveUpReason::MaxAttempts);
                    break;
                }
            }
        }
        assert_eq!(attempts, 6);
        let mut once = RetryPolicy::new(1, 500, 4_000, 60_000);
        assert_eq!(
            once.decide(T0, 1, &status(429), true, &mut rng),
            Decision::GiveUp(GiveUpReason::MaxAttempts)
        );
    }

    #[test]
    fn deadline_starts_at_first_decision_when_not_started() {
        let mut p = RetryPolicy::new(10, 500, 4_000, 10_000);
        assert_eq!(p.deadline_ms(), None);
        let o = Outcome::Status {
            status: 429,
            retry_after_ms: Some(9_000),
        };
        assert!(matches!(
            p.decide(T0, 1, &o, false, &mut XorShift(1)),
            Decision::Retry { .. }
        ));
        assert_eq!(p.deadline_ms(), Some(T0 + 10_000));
        assert_eq!(
            p.decide(T0 + 9_000, 2, &o, false, &mut XorShift(1)),
            Decision::GiveUp(GiveUpReason::Deadline)
        );
    }

    #[test]
    fn same_seed_same_schedule() {
        let run = |seed| {
            let mut p = policy();
            let mut rng = XorShift(seed);
            (1..6)
                .map(|a| p.decide(T0, a, &status(500), true, &mut rng))
                .collect::<alloc::vec::Vec<_>>()
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }
}
