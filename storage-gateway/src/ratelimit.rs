//! Per-hotkey upload rate limit: a token bucket per hotkey. Pure: time comes in as an argument.

use std::collections::HashMap;
use std::time::Duration;
use subxt::utils::AccountId32;

/// Token buckets by hotkey.
#[derive(Debug)]
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    max_keys: usize,
    buckets: HashMap<[u8; 32], (f64, u64)>,
}

impl RateLimiter {
    /// At most `burst` uploads at once, refilled at `per_minute`; tracks at most `max_keys`
    /// hotkeys (idle full buckets are dropped first).
    pub fn new(burst: u32, per_minute: u32, max_keys: usize) -> Self {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute) / 60.0,
            max_keys: max_keys.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `hotkey` at `now_ms`, or says how long until one is available.
    pub fn check(&mut self, hotkey: &AccountId32, now_ms: u64) -> Result<(), Duration> {
        if self.buckets.len() >= self.max_keys && !self.buckets.contains_key(&hotkey.0) {
            self.evict(now_ms);
        }
        let (burst, rate) = (self.burst, self.per_second);
        let (tokens, last) = self.buckets.entry(hotkey.0).or_insert((burst, now_ms));
        let elapsed = now_ms.saturating_sub(*last) as f64 / 1000.0;
        *tokens = (*tokens + elapsed * rate).min(burst);
        *last = now_ms.max(*last);
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else if rate <= 0.0 {
            Err(Duration::from_secs(3600))
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }

    fn evict(&mut self, now_ms: u64) {
        let (burst, rate) = (self.burst, self.per_second);
        self.buckets.retain(|_, (tokens, last)| {
            *tokens + now_ms.saturating_sub(*last) as f64 / 1000.0 * rate < burst
        });
        if self.buckets.len() >= self.max_keys {
            // Everyone is throttled: forget the longest idle.
            if let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k)
            {
                self.buckets.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills() {
        let mut rl = RateLimiter::new(2, 60, 100);
        let k = AccountId32([1; 32]);
        assert!(rl.check(&k, 0).is_ok());
        assert!(rl.check(&k, 0).is_ok());
        let wait = rl.check(&k, 0).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(rl.check(&k, 1_000).is_ok(), "one token per second");
        // Another hotkey has its own bucket.
        assert!(rl.check(&AccountId32([2; 32]), 0).is_ok());
    }

    #[test]
    fn tracked_keys_are_bounded() {
        let mut rl = RateLimiter::new(1, 60, 8);
        for i in 0..100u8 {
            let _ = rl.check(&AccountId32([i; 32]), u64::from(i));
        }
        assert!(rl.buckets.len() <= 8);
    }
}
