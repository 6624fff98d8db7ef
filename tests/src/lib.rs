//! kiln's end-to-end scenarios, written as specifications: a list of miners (honest or
//! cheating, each its own `kiln miner` process), then steps that advance the run, break things
//! and assert what the validator decided, in Postgres, in its API and on chain.
//!
//! ```no_run
//! use kiln_e2e::{Behaviour::*, Scenario, Step::*};
//! # async fn f() {
//! Scenario::new("a copycat earns nothing")
//!     .miners([Honest, Honest, Copycat])
//!     .then(AdvanceWindows(3))
//!     .then(AssertWeights)
//!     .then(AssertPenalty { miner: Copycat, verdict: "copy", reason: "copy of uid" })
//!     .run()
//!     .await;
//! # }
//! ```
//!
//! The scenarios run the `kiln` binary of this workspace's target folder (`cargo nextest run
//! --workspace` builds it; set `KILN_BIN` to use another).

mod browser;
pub mod metrics;
mod run;

pub use kiln_stack::{Behaviour, Component};
pub use run::Scenario;

/// One step of a scenario.
#[derive(Debug, Clone)]
pub enum Step {
    /// Wait for the validator to score this many more windows.
    AdvanceWindows(u64),
    /// The latest weight vector gives weight to honest miners only, at least one of them.
    AssertWeights,
    /// Every miner of this behaviour had `verdict` in some window with a penalty whose reason
    /// contains `reason`, recorded in Postgres and served by the API, and ends with a zero
    /// final score and zero weight.
    AssertPenalty {
        /// The cheaters concerned.
        miner: Behaviour,
        /// The verdict name (`copy`, `invalid`, `evaluated`, …).
        verdict: &'static str,
        /// A part of the penalty's reason.
        reason: &'static str,
    },
    /// The chain's incentive (Yuma consensus) matches the validator's weights on chain: within
    /// 0.01 for every miner, and zero for every cheater.
    AssertIncentiveFollowsWeights,
    /// `kill -9` of the validator in the middle of a window, then a restart.
    CrashValidator,
    /// `kill -9` of a component's process by its pid, behind the stack's back, in the middle
    /// of a window; then waits until the stack's supervisor has started it again and every
    /// component's metrics endpoint answers.
    Kill(Component),
    /// The run's summary (as `kiln up --json` writes it) counts `restarts` restarts of
    /// `component` and none of any other, every component running; and one of the two windows
    /// after the one of the last [`Step::Kill`] evaluated every honest miner.
    AssertRestarted {
        /// The component killed.
        component: Component,
        /// Its restarts.
        restarts: u32,
    },
    /// Every window scored was recorded once, consecutively, and each weight vector was sent
    /// once: nothing lost, nothing duplicated across restarts.
    AssertNothingLostOrDuplicated,
    /// Stop the S3 server once every honest miner has committed the next window, and start it
    /// again after the validator scored that window.
    S3OutageForAWindow,
    /// The outage's window recorded the honest miners as infrastructure failures (no penalty,
    /// no lost standing), and one of the two windows after it evaluated them all again.
    AssertInfrastructureMissesThenRecovery,
    /// No honest miner has a penalty in any window scored so far (faults of the subnet's
    /// infrastructure cost them nothing).
    AssertNoHonestPenalties,
    /// The model learns: its held-out loss, served by the API's model-loss series and
    /// recorded in Postgres, is lower at the latest window than at the first.
    AssertModelLearns,
    /// Every metric `deploy/`'s Grafana dashboards and Prometheus alerts query is in a scrape of
    /// the running validator, gateway and miners, and every exported `kiln_…` metric has help.
    AssertDeployMetricsScraped,
    /// Headless Chromium renders the validator's web dashboard: the script refreshes it live,
    /// the loss chart has a point per window, every miner is listed with the penalty the
    /// validator recorded for it (the copycat's and the random-data trainer's not empty), and
    /// desktop and phone screenshots are saved beside the `kiln` binary.
    AssertDashboardInBrowser,
}
