//! When to restart a component that exited on its own: after a delay that starts at
//! [`Policy::first_delay`] and doubles up to [`Policy::max_delay`], back to the first once the
//! component stayed up [`Policy::stable_after`]; and never again once it needed more than
//! [`Policy::max_restarts`] restarts within [`Policy::period`]. Pure: the caller says what
//! happened and when (time since any fixed instant), and does what it is told.

use serde::Serialize;
use std::collections::VecDeque;
use std::time::Duration;

/// How a component is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The delay before the first restart.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Up this long, the next delay is the first again.
    pub stable_after: Duration,
    /// Restarts allowed within [`Policy::period`]; an exit past them fails the component.
    pub max_restarts: usize,
    /// See [`Policy::max_restarts`].
    pub period: Duration,
}

impl Policy {
    /// 0.5 s doubling to 10 s, reset after 30 s up; at most 5 restarts within 2 minutes.
    pub const RESTART: Self = Self {
        first_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(10),
        stable_after: Duration::from_secs(30),
        max_restarts: 5,
        period: Duration::from_secs(120),
    };

    /// Never restarted: its first exit fails it.
    pub const NEVER: Self = Self {
        max_restarts: 0,
        ..Self::RESTART
    };
}

/// Where a component stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Its process runs.
    Running,
    /// It exited and waits out its delay before a restart.
    Restarting,
    /// Stopped on purpose (a shutdown, or a test's deliberate kill).
    Stopped,
    /// It exited and is not restarted any more.
    Failed,
}

/// What to do about an exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after this delay.
    Restart {
        /// The delay.
        after: Duration,
    },
    /// Do not: it failed.
    GiveUp,
    /// Nothing: the exit was intended, or it had already failed.
    Ignore,
}

/// One component's restart state.
#[derive(Debug, Clone)]
pub struct Supervisor {
    policy: Policy,
    status: Status,
    delay: Duration,
    started_at: Duration,
    due: Duration,
    recent: VecDeque<Duration>,
    restarts: u32,
}

impl Supervisor {
    /// A component started at `now`.
    pub fn new(policy: Policy, now: Duration) -> Self {
        Self {
            policy,
            status: Status::Running,
            delay: policy.first_delay,
            started_at: now,
            due: now,
            recent: VecDeque::new(),
            restarts: 0,
        }
    }

    /// Where it stands.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Restarts so far (intended ones not counted).
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// Its process exited at `now`.
    pub fn exited(&mut self, now: Duration) -> Decision {
        if self.status != Status::Running {
            return Decision::Ignore;
        }
        if now.saturating_sub(self.started_at) >= self.policy.stable_after {
            self.delay = self.policy.first_delay;
        }
        let since = now.saturating_sub(self.policy.period);
        while self.recent.front().is_some_and(|t| *t < since) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.policy.max_restarts {
            self.status = Status::Failed;
            return Decision::GiveUp;
        }
        let after = self.delay;
        self.delay = (self.delay * 2).min(self.policy.max_delay);
        self.recent.push_back(now);
        self.due = now + after;
        self.status = Status::Restarting;
        Decision::Restart { after }
    }

    /// Whether a restart is due at `now`.
    pub fn due(&self, now: Duration) -> bool {
        self.status == Status::Restarting && now >= self.due
    }

    /// It was started again at `now`, after an exit.
    pub fn restarted(&mut self, now: Duration) {
        if self.status == Status::Restarting {
            self.restarts += 1;
            self.status = Status::Running;
            self.started_at = now;
        }
    }

    /// It is being stopped on purpose: its exit is no crash.
    pub fn stopping(&mut self) {
        if self.status != Status::Failed {
            self.status = Status::Stopped;
        }
    }

    /// It was started again on purpose at `now` (after [`Supervisor::stopping`]).
    pub fn started(&mut self, now: Duration) {
        self.status = Status::Running;
        self.started_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const P: Policy = Policy::RESTART;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Crashes `after_up` after each start, restarting when due; the delays it was told.
    fn crash_loop(s: &mut Supervisor, mut now: Duration, after_up: Duration) -> Vec<Decision> {
        let mut seen = Vec::new();
        loop {
            now += after_up;
            let d = s.exited(now);
            seen.push(d);
            let Decision::Restart { after } = d else {
                return seen;
            };
            assert!(!s.due(now + after - ms(1)));
            now += after;
            assert!(s.due(now));
            s.restarted(now);
        }
    }

    #[test]
    fn a_crash_loop_backs_off_then_fails() {
        let mut s = Supervisor::new(P, Duration::ZERO);
        let seen = crash_loop(&mut s, Duration::ZERO, ms(100));
        let delays: Vec<_> = seen
            .iter()
            .filter_map(|d| match d {
                Decision::Restart { after } => Some(after.as_millis()),
                _ => None,
            })
            .collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000]);
        assert_eq!(seen.last(), Some(&Decision::GiveUp));
        assert_eq!(s.status(), Status::Failed);
        assert_eq!(s.restarts(), 5);
        assert_eq!(s.exited(ms(999_999)), Decision::Ignore);
        s.restarted(ms(999_999));
        assert_eq!(s.status(), Status::Failed);
    }

    #[test]
    fn the_delay_is_capped_and_resets_after_a_stable_run() {
        // Crashes spread out enough never to fail, but too soon to reset the delay.
        let policy = Policy {
            max_restarts: 100,
            ..P
        };
        let mut s = Supervisor::new(policy, Duration::ZERO);
        let mut now = Duration::ZERO;
        let mut last = Duration::ZERO;
        for _ in 0..10 {
            now += ms(1000);
            let Decision::Restart { after } = s.exited(now) else {
                panic!("restarts are allowed");
            };
            last = after;
            now += after;
            s.restarted(now);
        }
        assert_eq!(last, P.max_delay);
        now += P.stable_after;
        assert_eq!(s.exited(now), Decision::Restart { after: ms(500) });
    }

    #[test]
    fn an_intended_stop_is_not_a_crash() {
        let mut s = Supervisor::new(P, Duration::ZERO);
        s.stopping();
        assert_eq!(s.exited(ms(10)), Decision::Ignore);
        assert_eq!(s.status(), Status::Stopped);
        s.started(ms(20));
        assert_eq!(s.status(), Status::Running);
        assert_eq!(s.restarts(), 0);
        assert!(matches!(s.exited(ms(30)), Decision::Restart { .. }));
    }

    #[test]
    fn never_fails_on_the_first_exit() {
        let mut s = Supervisor::new(Policy::NEVER, Duration::ZERO);
        assert_eq!(s.exited(ms(10)), Decision::GiveUp);
        assert_eq!(s.status(), Status::Failed);
        assert_eq!(s.restarts(), 0);
        s.stopping();
        assert_eq!(s.status(), Status::Failed);
    }

    proptest! {
        /// Whatever the uptimes, every delay is within bounds, no more than `max_restarts`
        /// restarts fall within any `period`, and a failed component stays failed.
        #[test]
        fn restarts_are_bounded(uptimes in prop::collection::vec(0u64..200_000, 1..40)) {
            let mut s = Supervisor::new(P, Duration::ZERO);
            let mut now = Duration::ZERO;
            let mut restarts: Vec<Duration> = Vec::new();
            let mut failed = false;
            for up in uptimes {
                now += ms(up);
                match s.exited(now) {
                    Decision::Restart { after } => {
                        prop_assert!(!failed);
                        prop_assert!(after >= P.first_delay && after <= P.max_delay);
                        if up >= P.stable_after.as_millis() as u64 {
                            prop_assert_eq!(after, P.first_delay);
                        }
                        restarts.push(now);
                        let within = restarts.iter().filter(|t| now - **t <= P.period).count();
                        prop_assert!(within <= P.max_restarts);
                        now += after;
                        prop_assert!(s.due(now));
                        s.restarted(now);
                        prop_assert_eq!(s.status(), Status::Running);
                    }
                    Decision::GiveUp => {
                        prop_assert!(!failed);
                        let within = restarts.iter().filter(|t| now - **t <= P.period).count();
                        prop_assert_eq!(within, P.max_restarts);
                        failed = true;
                    }
                    Decision::Ignore => prop_assert!(failed),
                }
                prop_assert_eq!(s.status() == Status::Failed, failed);
                prop_assert_eq!(s.restarts() as usize, restarts.len());
            }
        }
    }
}
