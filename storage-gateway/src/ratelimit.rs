//! Token buckets by key (a hotkey, a peer address): `burst` at once, refilled at a steady rate.
//! Bounded: at most `max_keys` buckets, the least recently used forgotten first (a forgotten
//! bucket comes back full, which only ever favours the key). Pure: time comes in as an argument.

use lru::LruCache;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::time::Duration;

/// Token buckets by key.
#[derive(Debug)]
pub struct RateLimiter<K: Hash + Eq> {
    burst: f64,
    per_second: f64,
    buckets: LruCache<K, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: u64,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// At most `burst` events at once, refilled at `per_minute`; tracks at most `max_keys` keys.
    pub fn new(burst: u32, per_minute: u32, max_keys: usize) -> Self {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute) / 60.0,
            buckets: LruCache::new(NonZeroUsize::new(max_keys).unwrap_or(NonZeroUsize::MIN)),
        }
    }

    /// Takes one token for `key` at `now_ms`, or says how long until one is available.
    pub fn check(&mut self, key: K, now_ms: u64) -> Result<(), Duration> {
        let wait = self.wait(&key, now_ms);
        if wait.is_none() {
            let bucket = self.refilled(key, now_ms);
            bucket.tokens -= 1.0;
        }
        wait.map_or(Ok(()), Err)
    }

    /// How long until `key` has a token at `now_ms` (`None`: it has one now). Takes nothing.
    pub fn wait(&mut self, key: &K, now_ms: u64) -> Option<Duration> {
        let tokens = match self.buckets.peek(key) {
            Some(b) => self.level(b, now_ms),
            None => self.burst,
        };
        if tokens >= 1.0 {
            None
        } else if self.per_second <= 0.0 {
            Some(Duration::from_secs(3600))
        } else {
            Some(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }

    /// Takes one token for `key` at `now_ms` even when none is left (the level floors at one
    /// burst below empty, so a key that keeps misbehaving stays throttled for a while).
    pub fn charge(&mut self, key: K, now_ms: u64) {
        let floor = -self.burst;
        let bucket = self.refilled(key, now_ms);
        bucket.tokens = (bucket.tokens - 1.0).max(floor);
    }

    /// Keys tracked now.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    fn level(&self, b: &Bucket, now_ms: u64) -> f64 {
        let elapsed = now_ms.saturating_sub(b.last_ms) as f64 / 1000.0;
        (b.tokens + elapsed * self.per_second).min(self.burst)
    }

    fn refilled(&mut self, key: K, now_ms: u64) -> &mut Bucket {
        let (burst, rate) = (self.burst, self.per_second);
        let bucket = self.buckets.get_or_insert_mut(key, || Bucket {
            tokens: burst,
            last_ms: now_ms,
        });
        let elapsed = now_ms.saturating_sub(bucket.last_ms) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last_ms = now_ms.max(bucket.last_ms);
        bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bursts_then_refills() {
        let mut rl = RateLimiter::new(2, 60, 100);
        assert!(rl.check(1u8, 0).is_ok());
        assert!(rl.check(1, 0).is_ok());
        let wait = rl.check(1, 0).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(rl.check(1, 1_000).is_ok(), "one token per second");
        // Another key has its own bucket.
        assert!(rl.check(2, 0).is_ok());
    }

    #[test]
    fn charges_go_below_empty_and_recover_at_the_refill_rate() {
        let mut rl = RateLimiter::new(2, 60, 100);
        for _ in 0..10 {
            rl.charge(7u8, 0);
        }
        // Floored at one burst below empty: three seconds to one token.
        assert_eq!(rl.wait(&7, 0), Some(Duration::from_secs(3)));
        assert!(rl.wait(&7, 2_999).is_some());
        assert_eq!(rl.wait(&7, 3_000), None);
        assert_eq!(rl.wait(&8, 0), None, "untouched keys are full");
    }

    #[test]
    fn tracked_keys_are_bounded() {
        let mut rl = RateLimiter::new(1, 60, 8);
        for i in 0..100u64 {
            let _ = rl.check(i, i);
        }
        assert_eq!(rl.len(), 8);
    }

    proptest! {
        /// Over any sequence of checks, one key never gets more than `burst` plus what the rate
        /// refills over the elapsed time.
        #[test]
        fn never_more_than_burst_plus_refill(
            gaps in proptest::collection::vec(0u64..2_000, 1..200),
            burst in 1u32..10,
            per_minute in 0u32..600,
        ) {
            let mut rl = RateLimiter::new(burst, per_minute, 4);
            let (mut now, mut granted) = (0u64, 0u64);
            for gap in gaps {
                now += gap;
                granted += u64::from(rl.check(0u8, now).is_ok());
            }
            let refill = now as f64 / 60_000.0 * f64::from(per_minute);
            prop_assert!(granted as f64 <= f64::from(burst) + refill + 1e-9);
        }
    }
}
