//! Timelocked commit-reveal (v4) through the client against `kiln devnet`: a commit encrypted to
//! the predicted round of the devnet's beacon is revealed by the chain at the start of the reveal
//! epoch and the stored weights are the committed ones; each commit rule is refused locally under
//! the chain's error name, and the chain agrees when the commit is forced.

use kiln_devnet_runtime::{dev, subtensor};
use kiln_runtime_client::error::{TxError, WeightsError};
use kiln_runtime_client::keys::account;
use kiln_runtime_client::timelock::check::MAX_UNREVEALED;
use kiln_runtime_client::{
    BlockSel, Client, CommitReveal, Keypair, PendingCommit, RevealOutcome, TimelockedEvent, schema,
    timelock,
};

mod common;

use common::{admin, connect, key};

const NETUID: u16 = 1;

/// A devnet whose subnet 1 has timelocked commit-reveal on and `tempo`-block epochs.
async fn node(tempo: u16) -> kiln_devnet::NodeHandle {
    let subnet = subtensor::GenesisSubnet {
        commit_reveal: true,
        ..dev::fast_subnet(NETUID, tempo)
    };
    common::node(0, dev::genesis(vec![subnet])).await
}

fn rejection(result: Result<impl std::fmt::Debug, WeightsError>) -> &'static str {
    match result {
        Err(WeightsError::Rejected(r)) => r.name(),
        other => panic!("expected a local refusal, got {other:?}"),
    }
}

/// Sends `commit_timelocked_weights` without the local checks; returns the chain's error name.
async fn forced(client: &Client, hotkey: &Keypair, version: u16) -> String {
    let beacon = client.beacon(BlockSel::Latest).await.unwrap();
    let round = beacon.last_stored_round + 1_000;
    let (ciphertext, _) = timelock::seal(
        &beacon.public_key,
        round,
        &account(hotkey),
        &[0],
        &[65535],
        0,
        rand_core::OsRng,
    )
    .unwrap();
    let call = schema::commit_timelocked_weights((NETUID, ciphertext, round, version));
    match client.submit(&call, hotkey).await {
        Err(TxError::Dispatch { error, .. }) => error,
        other => panic!("expected a dispatch error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timelocked_commit_is_revealed_by_the_chain_with_the_committed_weights() {
    // 100 blocks of 20 ms: a 2 s reveal epoch outlasts the beacon's 1 s period.
    const TEMPO: u16 = 100;
    let node = node(TEMPO).await;
    let client = connect(&node).await;
    let (alice, bob, ferdie) = (key("//Alice"), key("//Bob"), key("//Ferdie"));
    client
        .burned_register(NETUID, &alice, &account(&bob))
        .await
        .unwrap();
    let params = client.hyperparams(NETUID, BlockSel::Latest).await.unwrap();
    assert_eq!(
        params.commit_reveal,
        CommitReveal::Timelocked {
            version: 4,
            period: 1
        }
    );
    let beacon = client.beacon(BlockSel::Latest).await.unwrap();
    assert_eq!(beacon.public_key, dev::beacon().public_key());
    assert_eq!(
        (beacon.clock.genesis_time, beacon.clock.period),
        (kiln_drand::QUICKNET_GENESIS_TIME, 1)
    );
    assert!(beacon.last_stored_round > 0);

    // The round is predicted from the block time of the last 10 blocks: let the devnet's slow
    // first block (its start-up) leave that window.
    common::eventually("block 12", || {
        let client = client.clone();
        async move { (client.current_block().await.ok()? >= 12).then_some(()) }
    })
    .await;
    // The owner hotkey (uid 0) needs neither stake nor a permit.
    let (commit, included) = client
        .commit_timelocked_weights(NETUID, &ferdie, &[(1, 2.0), (0, 1.0)], 0)
        .await
        .unwrap();
    let who = account(&ferdie);
    assert!(included.has_event("SubtensorModule", "TimelockedWeightsCommitted"));
    assert_eq!(commit.values, [65535, 32768]);
    // The devnet's epoch of block b is b / tempo; the reveal epoch is the next one.
    let tempo = u64::from(TEMPO);
    assert_eq!(commit.commit_epoch, commit.commit_block / tempo);
    assert_eq!(commit.reveal_block, (commit.commit_epoch + 1) * tempo);
    let events = client.timelocked_events(commit.commit_block).await.unwrap();
    assert_eq!(
        events,
        [TimelockedEvent::Committed {
            hotkey: who,
            netuid: NETUID,
            hash: commit.hash.into(),
            reveal_round: commit.reveal_round,
        }]
    );
    // Sealed: the round's pulse is not on chain when the commit lands.
    let at_commit = BlockSel::Number(commit.commit_block);
    let then = client.beacon(at_commit).await.unwrap();
    assert!(commit.reveal_round > then.last_stored_round);
    assert_eq!(
        client
            .timelocked_commits(NETUID, &who, at_commit)
            .await
            .unwrap(),
        [PendingCommit {
            epoch: commit.commit_epoch,
            commit_block: commit.commit_block,
            hash: commit.hash,
            reveal_round: commit.reveal_round,
        }]
    );
    assert!(
        client
            .weights_of(NETUID, 0, at_commit)
            .await
            .unwrap()
            .is_empty()
    );

    let outcome = client
        .wait_for_reveal(&who, &commit, 3 * tempo)
        .await
        .unwrap();
    let RevealOutcome::Revealed { block } = outcome else {
        panic!("{outcome:?} for {commit:?}");
    };
    // Revealed in the reveal epoch (its first block unless this machine lagged the beacon).
    assert!(
        (commit.reveal_block..commit.reveal_block + tempo).contains(&block),
        "revealed at {block}, predicted {}",
        commit.reveal_block
    );
    let before = client
        .weights_of(NETUID, 0, BlockSel::Number(block - 1))
        .await
        .unwrap();
    assert!(before.is_empty(), "{before:?}");
    let stored = client
        .weights_of(NETUID, 0, BlockSel::Number(block))
        .await
        .unwrap();
    let committed: Vec<(u16, u16)> = commit.uids.iter().copied().zip(commit.values).collect();
    assert_eq!(stored, committed);
    assert!(
        client
            .timelocked_events(block)
            .await
            .unwrap()
            .contains(&TimelockedEvent::Revealed {
                netuid: NETUID,
                hotkey: who,
            })
    );
    let pending = client
        .timelocked_commits(NETUID, &who, BlockSel::Number(block))
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelocked_commits_are_refused_locally_as_the_chain_would() {
    // One epoch for the whole test: every commit is filed under epoch 0.
    let node = node(10_000).await;
    let client = connect(&node).await;
    let (bob, charlie, ferdie) = (key("//Bob"), key("//Charlie"), key("//Ferdie"));
    let scores = [(0u16, 1.0)];

    assert_eq!(
        rejection(
            client
                .commit_timelocked_weights(NETUID, &charlie, &scores, 0)
                .await
        ),
        "HotKeyNotRegisteredInSubNet"
    );
    // Plain weights on a timelocked subnet are refused, pointing at the timelocked call.
    let plain = client.set_weights(NETUID, &ferdie, &scores, 0).await;
    assert!(
        matches!(
            plain,
            Err(WeightsError::TimelockedCommitReveal {
                netuid: NETUID,
                version: 4
            })
        ),
        "{plain:?}"
    );

    for n in 0..MAX_UNREVEALED {
        client
            .commit_timelocked_weights(NETUID, &ferdie, &scores, 0)
            .await
            .unwrap_or_else(|e| panic!("commit {n}: {e}"));
    }
    let who = account(&ferdie);
    let pending = client
        .timelocked_commits(NETUID, &who, BlockSel::Latest)
        .await
        .unwrap();
    assert_eq!(pending.len(), MAX_UNREVEALED);
    assert!(pending.iter().all(|c| c.epoch == 0));
    assert_eq!(
        rejection(
            client
                .commit_timelocked_weights(NETUID, &ferdie, &scores, 0)
                .await
        ),
        "TooManyUnrevealedCommits"
    );
    assert_eq!(
        forced(&client, &ferdie, 4).await,
        "TooManyUnrevealedCommits"
    );

    // The rate limit comes first in the chain's order.
    admin(
        &client,
        "sudo_set_weights_set_rate_limit",
        vec![NETUID.into(), 1000u64.into()],
        false,
    )
    .await;
    assert_eq!(
        rejection(
            client
                .commit_timelocked_weights(NETUID, &ferdie, &scores, 0)
                .await
        ),
        "CommittingWeightsTooFast"
    );
    assert_eq!(
        forced(&client, &ferdie, 4).await,
        "CommittingWeightsTooFast"
    );

    admin(
        &client,
        "sudo_set_commit_reveal_version",
        vec![5u16.into()],
        true,
    )
    .await;
    let params = client.hyperparams(NETUID, BlockSel::Latest).await.unwrap();
    assert_eq!(
        params.commit_reveal,
        CommitReveal::Timelocked {
            version: 5,
            period: 1
        }
    );
    assert_eq!(
        rejection(
            client
                .commit_timelocked_weights(NETUID, &bob, &scores, 0)
                .await
        ),
        "IncorrectCommitRevealVersion"
    );
    assert_eq!(
        forced(&client, &ferdie, 4).await,
        "IncorrectCommitRevealVersion"
    );

    admin(
        &client,
        "sudo_set_commit_reveal_weights_enabled",
        vec![NETUID.into(), false.into()],
        false,
    )
    .await;
    assert_eq!(
        rejection(
            client
                .commit_timelocked_weights(NETUID, &ferdie, &scores, 0)
                .await
        ),
        "CommitRevealDisabled"
    );
    assert_eq!(forced(&client, &ferdie, 5).await, "CommitRevealDisabled");
}
