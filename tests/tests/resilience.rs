//! Crashes and outages: the validator killed mid-window resumes without losing or repeating
//! anything; a gateway killed behind the stack's back is restarted by its supervisor and the
//! run goes on; S3 down for a window is recorded as the validator's own infrastructure failure,
//! never the miners', and the run recovers within two windows. No fault costs an honest miner
//! a penalty.

use kiln_e2e::{Behaviour::*, Component::Gateway, Scenario, Step::*};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_validator_killed_mid_window_resumes_without_loss_or_repeats() {
    Scenario::new("sigkill")
        .miners([Honest, Honest, Copycat])
        .then(AdvanceWindows(2))
        .then(CrashValidator)
        .then(AdvanceWindows(2))
        .then(AssertNothingLostOrDuplicated)
        .then(AssertWeights)
        .then(AssertPenalty {
            miner: Copycat,
            verdict: "copy",
            reason: "copy of uid",
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_killed_mid_window_is_restarted_and_the_run_goes_on() {
    Scenario::new("gateway-sigkill")
        .miners([Honest, Honest])
        .then(AdvanceWindows(1))
        .then(Kill(Gateway))
        .then(AdvanceWindows(3))
        .then(AssertRestarted {
            component: Gateway,
            restarts: 1,
        })
        .then(AssertNoHonestPenalties)
        .then(AssertWeights)
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_down_for_a_window_is_an_infrastructure_miss_and_the_run_recovers() {
    Scenario::new("s3-outage")
        .on_s3()
        .miners([Honest, Honest])
        .then(AdvanceWindows(1))
        .then(S3OutageForAWindow)
        // The outage also covers the next window's uploads: the miners retry, commit their
        // digests anyway and upload once the store is back.
        .then(AdvanceWindows(3))
        .then(AssertInfrastructureMissesThenRecovery)
        .then(AssertNoHonestPenalties)
        .then(AssertNothingLostOrDuplicated)
        .then(AssertWeights)
        .run()
        .await;
}
