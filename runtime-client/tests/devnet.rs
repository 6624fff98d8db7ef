//! The client against `kiln devnet` over WebSocket: registration, axon, stake, commitments,
//! weights (every invalid class refused locally under the chain's error name, and the chain
//! agreeing when the vector is forced), hash commit-reveal (v2), the metagraph after an epoch, and a
//! reconnect after the devnet restarts mid-stream.

use futures::StreamExt;
use kiln_devnet::{NodeConfig, NodeHandle, spawn};
use kiln_devnet_runtime::dev;
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::window::WindowClock;
use kiln_runtime_client::error::{
    RegisterError, ServeError, SetCommitmentError, StakeError, TxError, WeightsError,
};
use kiln_runtime_client::keys::account;
use kiln_runtime_client::weights::{self, WeightsCall};
use kiln_runtime_client::{AxonEndpoint, BlockSel, CommitReveal, Keypair, WindowEvent};
use std::time::Duration;
use subxt::dynamic;

mod common;

use common::{admin, connect, eventually, key};

const NETUID: u16 = 1;
const TEMPO: u16 = 10;

async fn node(port: u16) -> NodeHandle {
    common::node(port, dev::genesis(vec![dev::fast_subnet(NETUID, TEMPO)])).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_serve_stake_commit_and_read_back() {
    let node = node(0).await;
    let client = connect(&node).await;
    let (alice, bob, charlie) = (key("//Alice"), key("//Bob"), key("//Charlie"));

    let params = client.hyperparams(NETUID, BlockSel::Latest).await.unwrap();
    assert!(params.exists);
    assert_eq!((params.tempo, params.n), (TEMPO, 1));
    assert_eq!(params.commit_reveal, CommitReveal::Off);

    let (uid, included) = client
        .burned_register(NETUID, &alice, &account(&bob))
        .await
        .unwrap();
    assert_eq!(uid, 1);
    assert!(included.has_event("SubtensorModule", "NeuronRegistered"));
    let again = client.burned_register(NETUID, &alice, &account(&bob)).await;
    assert!(
        matches!(again, Err(RegisterError::AlreadyRegistered { uid: 1, .. })),
        "{again:?}"
    );
    let missing = client.burned_register(42, &alice, &account(&charlie)).await;
    assert!(
        matches!(missing, Err(RegisterError::SubnetNotExists(42))),
        "{missing:?}"
    );

    let endpoint = AxonEndpoint {
        ip: "10.0.0.7".parse().unwrap(),
        port: 8091,
        version: 3,
        protocol: 4,
    };
    client.serve_axon(NETUID, &bob, &endpoint).await.unwrap();
    let bad = AxonEndpoint {
        port: 0,
        ..endpoint
    };
    assert!(matches!(
        client.serve_axon(NETUID, &bob, &bad).await,
        Err(ServeError::InvalidEndpoint(_))
    ));
    assert!(matches!(
        client.serve_axon(NETUID, &charlie, &endpoint).await,
        Err(ServeError::NotRegistered)
    ));

    client
        .add_stake(NETUID, &alice, &account(&bob), 100_000_000_000)
        .await
        .unwrap();

    let commitment = Commitment {
        kind: CommitmentKind::Artifact,
        window: 3,
        digest: *blake3::hash(b"artifact").as_bytes(),
        byte_len: 1234,
        locator: "gw:main".into(),
    };
    let bytes = commitment.encode().unwrap();
    client.set_commitment(NETUID, &bob, &bytes).await.unwrap();
    assert!(matches!(
        client.set_commitment(NETUID, &charlie, &bytes).await,
        Err(SetCommitmentError::NotRegistered)
    ));
    assert!(matches!(
        client.set_commitment(NETUID, &bob, &[0; 129]).await,
        Err(SetCommitmentError::TooLong(129))
    ));
    let all = client.commitments(NETUID, BlockSel::Latest).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].hotkey, account(&bob));
    assert_eq!(all[0].kiln().unwrap().unwrap(), commitment);

    let graph = client.metagraph(NETUID, BlockSel::Latest).await.unwrap();
    assert_eq!(graph.neurons.len(), 2);
    let neuron = graph.by_hotkey(&account(&bob)).unwrap();
    assert_eq!(neuron.uid, 1);
    assert_eq!(neuron.coldkey, account(&alice));
    assert_eq!(neuron.stake, 100_000_000_000);
    let axon = neuron.axon.expect("served axon");
    assert_eq!((axon.ip, axon.port, axon.ip_type), (0x0a00_0007, 8091, 4));
    assert_eq!(graph.neurons[0].hotkey, account(&key("//Ferdie")));

    // Reading at an earlier block sees the earlier state.
    let before = client
        .metagraph(NETUID, BlockSel::Number(included.block_number - 1))
        .await
        .unwrap();
    assert_eq!(before.neurons.len(), 1);
    let fee = client
        .estimate_fee(
            &kiln_runtime_client::schema::transfer_keep_alive(account(&bob), 1),
            &alice,
        )
        .await
        .unwrap();
    assert!(fee > 0);

    // An account that cannot pay fees is refused by the pool, with the node's code and reason.
    let broke = kiln_runtime_client::keys::generate(12).unwrap().pair;
    let refused = client
        .transfer(&broke, &account(&alice), 1)
        .await
        .unwrap_err();
    match refused {
        StakeError::Tx(TxError::Pool { code, ref data, .. }) => {
            assert_eq!(code, 1010, "{refused}");
            assert!(
                data.as_deref().unwrap_or_default().contains("pay"),
                "{refused}"
            );
        }
        other => panic!("expected a pool refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_refused_locally_as_the_chain_would_and_incentive_follows() {
    let node = node(0).await;
    let client = connect(&node).await;
    let (alice, bob, charlie, dave) = (
        key("//Alice"),
        key("//Bob"),
        key("//Charlie"),
        key("//Dave"),
    );
    for hotkey in [&bob, &charlie] {
        client
            .burned_register(NETUID, &alice, &account(hotkey))
            .await
            .unwrap();
    }
    client
        .add_stake(NETUID, &alice, &account(&bob), 100_000_000_000)
        .await
        .unwrap();

    // For each invalid class: the local verdict, then the chain's verdict on the same vector.
    let expect =
        |name: &'static str, signer: Keypair, uids: Vec<u16>, values: Vec<u16>, vk: u64| {
            let client = client.clone();
            async move {
                let (ctx, _) = client
                    .weights_context(NETUID, &account(&signer))
                    .await
                    .unwrap();
                let local = weights::check(&ctx, WeightsCall::Set, &uids, &values, vk).unwrap_err();
                assert_eq!(local.name(), name, "local verdict");
                let forced = client
                    .set_weights_unchecked(NETUID, &signer, uids, values, vk)
                    .await
                    .unwrap_err();
                match forced {
                    WeightsError::Tx(TxError::Dispatch { pallet, error }) => {
                        assert_eq!((pallet.as_str(), error.as_str()), ("SubtensorModule", name));
                    }
                    other => panic!("{name}: chain said {other}"),
                }
            }
        };
    expect("WeightVecNotEqualSize", bob.clone(), vec![0, 2], vec![1], 0).await;
    expect(
        "UidsLengthExceedUidsInSubNet",
        bob.clone(),
        vec![0, 1, 2, 0],
        vec![1; 4],
        0,
    )
    .await;
    expect(
        "HotKeyNotRegisteredInSubNet",
        dave.clone(),
        vec![2],
        vec![1],
        0,
    )
    .await;
    // Charlie has no stake, so never a permit.
    expect(
        "NeuronNoValidatorPermit",
        charlie.clone(),
        vec![0, 1],
        vec![1, 1],
        0,
    )
    .await;

    // After an epoch Bob holds a permit.
    let bob_permit = || {
        eventually("Bob's permit", || {
            let client = client.clone();
            async move {
                let graph = client.metagraph(NETUID, BlockSel::Latest).await.ok()?;
                graph.neurons[1].validator_permit.then_some(())
            }
        })
    };
    bob_permit().await;
    expect("DuplicateUids", bob.clone(), vec![2, 2], vec![1, 1], 0).await;
    expect(
        "UidVecContainInvalidOne",
        bob.clone(),
        vec![2, 7],
        vec![1, 1],
        0,
    )
    .await;
    admin(
        &client,
        "sudo_set_min_allowed_weights",
        vec![NETUID.into(), 2u16.into()],
        false,
    )
    .await;
    expect("WeightVecLengthIsLow", bob.clone(), vec![2], vec![1], 0).await;
    admin(
        &client,
        "sudo_set_min_allowed_weights",
        vec![NETUID.into(), 1u16.into()],
        false,
    )
    .await;
    admin(
        &client,
        "sudo_set_weights_version_key",
        vec![NETUID.into(), 5u64.into()],
        false,
    )
    .await;
    expect(
        "IncorrectWeightVersionKey",
        bob.clone(),
        vec![2],
        vec![1],
        4,
    )
    .await;
    admin(
        &client,
        "sudo_set_stake_threshold",
        vec![u64::MAX.into()],
        true,
    )
    .await;
    expect(
        "NotEnoughStakeToSetWeights",
        bob.clone(),
        vec![2],
        vec![1],
        5,
    )
    .await;
    admin(&client, "sudo_set_stake_threshold", vec![0u64.into()], true).await;
    // An epoch under the threshold took Bob's permit; the next one gives it back.
    bob_permit().await;

    // The high-level call refuses the same way without sending anything.
    let refused = client.set_weights(NETUID, &bob, &[(2, 1.0)], 4).await;
    assert!(
        matches!(refused, Err(WeightsError::Rejected(r)) if r.name() == "IncorrectWeightVersionKey"),
        "{refused:?}"
    );

    // Valid weights from Bob make Charlie the miner: incentive after the next epoch.
    admin(
        &client,
        "sudo_set_weights_set_rate_limit",
        vec![NETUID.into(), 1000u64.into()],
        false,
    )
    .await;
    let sent = client
        .set_weights(NETUID, &bob, &[(2, 0.75)], 5)
        .await
        .unwrap();
    assert!(sent.has_event("SubtensorModule", "WeightsSet"));
    expect("SettingWeightsTooFast", bob.clone(), vec![2], vec![1], 5).await;
    let graph = eventually("Charlie's incentive", || {
        let client = client.clone();
        async move {
            let graph = client.metagraph(NETUID, BlockSel::Latest).await.ok()?;
            (graph.neurons[2].incentive == 65535).then_some(graph)
        }
    })
    .await;
    assert_eq!(graph.neurons[1].incentive, 0);
    assert!(graph.neurons[1].dividends > 0);
    assert_eq!(graph.neurons[1].last_update, sent.block_number);

    // Commit-reveal on: plain weights are refused locally and by the chain.
    admin(
        &client,
        "sudo_set_commit_reveal_weights_enabled",
        vec![NETUID.into(), true.into()],
        false,
    )
    .await;
    admin(
        &client,
        "sudo_set_weights_set_rate_limit",
        vec![NETUID.into(), 0u64.into()],
        false,
    )
    .await;
    expect("CommitRevealEnabled", bob.clone(), vec![2], vec![1], 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_then_reveal_one_epoch_later() {
    let node = node(0).await;
    let client = connect(&node).await;
    let (alice, bob, ferdie) = (key("//Alice"), key("//Bob"), key("//Ferdie"));
    client
        .burned_register(NETUID, &alice, &account(&bob))
        .await
        .unwrap();
    admin(
        &client,
        "sudo_set_commit_reveal_weights_enabled",
        vec![NETUID.into(), true.into()],
        false,
    )
    .await;
    let params = client.hyperparams(NETUID, BlockSel::Latest).await.unwrap();
    assert_eq!(
        params.commit_reveal,
        CommitReveal::Timelocked {
            version: 4,
            period: 1
        }
    );
    // Hash commits are refused under timelocked commit-reveal; a version below 3 selects them.
    let refused = client
        .commit_weights(NETUID, &ferdie, &[(1, 1.0)], vec![1], 0)
        .await;
    assert!(
        matches!(
            refused,
            Err(WeightsError::TimelockedCommitReveal { version: 4, .. })
        ),
        "{refused:?}"
    );
    admin(
        &client,
        "sudo_set_commit_reveal_version",
        vec![2u16.into()],
        true,
    )
    .await;
    let params = client.hyperparams(NETUID, BlockSel::Latest).await.unwrap();
    assert_eq!(params.commit_reveal, CommitReveal::Hash { period: 1 });

    // The owner hotkey (uid 0) needs neither stake nor a permit.
    let (pending, included) = client
        .commit_weights(NETUID, &ferdie, &[(1, 2.0), (0, 1.0)], vec![11, 22, 33], 0)
        .await
        .unwrap();
    assert!(included.has_event("SubtensorModule", "WeightsCommitted"));
    assert_eq!(pending.values, [65535, 32768]);
    // A reveal of something never committed is refused locally.
    let mut other = pending.clone();
    other.salt = vec![1];
    assert!(matches!(
        client.reveal_weights(&ferdie, &other).await,
        Err(WeightsError::NoCommit)
    ));
    // Too early: the chain says so.
    let early = client.reveal_weights(&ferdie, &pending).await.unwrap_err();
    assert_eq!(
        match &early {
            WeightsError::Tx(e) => e.dispatch_error(),
            _ => None,
        },
        Some("RevealTooEarly"),
        "{early}"
    );
    // The devnet's epoch of block b is b / tempo: reveal in the next one.
    let reveal_from = (included.block_number / u64::from(TEMPO) + 1) * u64::from(TEMPO);
    eventually("the reveal epoch", || {
        let client = client.clone();
        async move { (client.current_block().await.ok()? + 1 >= reveal_from).then_some(()) }
    })
    .await;
    let revealed = client.reveal_weights(&ferdie, &pending).await.unwrap();
    assert!(revealed.has_event("SubtensorModule", "WeightsRevealed"));
    let at = client.at(BlockSel::Latest).await.unwrap();
    let stored: Vec<(u16, u16)> = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, u16), Vec<(u16, u16)>>("SubtensorModule", "Weights"),
            (NETUID, 0),
        )
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(stored, [(1, 65535), (0, 32768)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_stream_survives_a_devnet_restart() {
    let first = node(0).await;
    let port = first.addr().port();
    let client = connect(&first).await;
    let clock = WindowClock::new(5, 1).unwrap();
    let mut events = client.window_events(clock).await.unwrap();
    let mut last = 0;
    let mut windows = 0;
    while last < 12 {
        match events.next().await.unwrap().unwrap() {
            WindowEvent::Block { number, window, .. } => {
                assert!(number > last || last == 0);
                assert_eq!(window, number / 5);
                last = number;
            }
            WindowEvent::WindowStarted { .. } => windows += 1,
            WindowEvent::CommitsClosed { .. } => {}
        }
    }
    assert!(windows >= 2, "saw {windows} window starts");

    // Restart the devnet on the same port: the stream resumes past the last block it reported.
    drop(first);
    let second = eventually("the port to be free", || async move {
        spawn(NodeConfig {
            state_file: None,
            port,
            block_time_ms: 20,
            instant: false,
            genesis: dev::genesis(vec![dev::fast_subnet(NETUID, TEMPO)]),
        })
        .await
        .ok()
    })
    .await;
    let resumed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let WindowEvent::Block { number, .. } = events.next().await.unwrap().unwrap() {
                return number;
            }
        }
    })
    .await
    .expect("the stream resumed");
    assert!(resumed > last, "{resumed} after {last}");
    // Reads and writes work on the new connection.
    assert!(client.current_block().await.unwrap() >= resumed);
    client
        .burned_register(NETUID, &key("//Alice"), &account(&key("//Bob")))
        .await
        .unwrap();
    drop(second);
}
