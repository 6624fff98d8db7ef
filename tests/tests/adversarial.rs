//! Every kind of cheating miner, beside honest ones, on one subnet: the honest miners hold all
//! the weight, each cheat ends at zero with the right reason, the chain's incentive follows and
//! the model's held-out loss falls. At the end, every metric `deploy/`'s dashboards and alerts
//! query is in a scrape of the run, and the web dashboard shows it all in a real browser.

use kiln_e2e::{Behaviour::*, Scenario, Step::*};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn honest_miners_rank_top_and_every_cheat_earns_nothing() {
    Scenario::new("cheaters")
        .miners([
            Honest, Honest, RandomData, Copycat, Zeros, Stale, Malformed, Oversized,
        ])
        .then(AdvanceWindows(7))
        .then(AssertWeights)
        .then(AssertPenalty {
            miner: RandomData,
            verdict: "evaluated",
            reason: "assigned-data check failed",
        })
        .then(AssertPenalty {
            miner: Copycat,
            verdict: "copy",
            reason: "copy of uid",
        })
        .then(AssertPenalty {
            miner: Zeros,
            verdict: "invalid",
            reason: "all zeros",
        })
        .then(AssertPenalty {
            miner: Stale,
            verdict: "evaluated",
            reason: "base model",
        })
        .then(AssertPenalty {
            miner: Malformed,
            verdict: "invalid",
            reason: "invalid:",
        })
        .then(AssertPenalty {
            miner: Oversized,
            verdict: "invalid",
            reason: "trailing",
        })
        .then(AssertIncentiveFollowsWeights)
        .then(AssertModelLearns)
        .then(AssertDeployMetricsScraped)
        .then(AssertDashboardInBrowser)
        .run()
        .await;
}
