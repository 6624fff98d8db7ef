//! An unmodified subxt client (legacy backend, chosen by `rpc_methods`) against a devnet on a
//! free port: storage reads, signed dynamic transactions with finality and events, dispatch
//! errors by subtensor's names, pool rejections (nonce, era, signature), axons, the commitment
//! quota, commit-reveal, fee-less calls from an unfunded hotkey, and subtensor's runtime APIs.

use kiln_devnet::{NodeConfig, NodeHandle, spawn};
use kiln_devnet_runtime::{RuntimeGenesisConfig, dev};
use subxt::dynamic::{self, Value};
use subxt::ext::scale_value::At;
use subxt::{OnlineClient, PolkadotConfig};
use subxt_signer::sr25519::dev as keys;

/// A node on a free port: blocks every `block_time_ms`, or per transaction when `instant`.
async fn node(block_time_ms: u64, instant: bool, genesis: RuntimeGenesisConfig) -> NodeHandle {
    spawn(NodeConfig {
        state_file: None,
        port: 0,
        block_time_ms,
        instant,
        genesis,
    })
    .await
    .unwrap()
}

/// A subxt client of `node`.
async fn client(node: &NodeHandle) -> OnlineClient<PolkadotConfig> {
    OnlineClient::<PolkadotConfig>::from_insecure_url(node.ws_url())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subxt_registers_reads_storage_and_sees_errors() {
    let node = node(1_000, true, dev::genesis(vec![dev::fast_subnet(1, 5)])).await;
    let api = client(&node).await;
    let subnet_n = dynamic::storage::<(u16,), u16>("SubtensorModule", "SubnetworkN");
    let at = api.at_current_block().await.unwrap();
    let n = at.storage().fetch(subnet_n.clone(), (1u16,)).await.unwrap();
    assert_eq!(n.decode().unwrap(), 1, "the owner hotkey is uid 0");

    let bob = keys::bob();
    let register = dynamic::transaction(
        "SubtensorModule",
        "burned_register",
        (1u16, Value::from_bytes(bob.public_key().0)),
    );
    let events = at
        .transactions()
        .sign_and_submit_then_watch_default(&register, &keys::alice())
        .await
        .unwrap()
        .wait_for_finalized_success()
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .flatten()
            .any(|e| e.pallet_name() == "SubtensorModule" && e.event_name() == "NeuronRegistered"),
        "no NeuronRegistered event"
    );
    let at = api.at_current_block().await.unwrap();
    let n = at.storage().fetch(subnet_n, (1u16,)).await.unwrap();
    assert_eq!(n.decode().unwrap(), 2);

    // A weight vector from a hotkey that is not registered fails inside the block with
    // subtensor's error name.
    let weights = dynamic::transaction(
        "SubtensorModule",
        "set_weights",
        (1u16, vec![0u16], vec![65535u16], 0u64),
    );
    let err = at
        .transactions()
        .sign_and_submit_then_watch_default(&weights, &keys::charlie())
        .await
        .unwrap()
        .wait_for_finalized_success()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("HotKeyNotRegisteredInSubNet"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_rejections_reach_subxt_with_substrate_error_codes() {
    // No timer blocks during the test: blocks are authored on demand.
    let node = node(3_600_000, false, dev::genesis(vec![])).await;
    let api = client(&node).await;
    let transfer = |amount: u64| {
        dynamic::transaction(
            "Balances",
            "transfer_keep_alive",
            (keys::bob().public_key().to_address::<()>(), amount),
        )
    };
    let params = |nonce: u64| {
        subxt::config::DefaultExtrinsicParamsBuilder::<PolkadotConfig>::new()
            .nonce(nonce)
            .build()
    };
    let rpc = subxt::rpcs::RpcClient::from_insecure_url(node.ws_url())
        .await
        .unwrap();
    let alice = keys::alice().public_key().to_account_id().to_string();
    let next_index = || async {
        rpc.request::<u32>(
            "system_accountNextIndex",
            subxt::rpcs::rpc_params![alice.clone()],
        )
        .await
        .unwrap()
    };
    assert_eq!(next_index().await, 0);
    let at = api.at_current_block().await.unwrap();
    let first = at
        .transactions()
        .create_signed(&transfer(1_000), &keys::alice(), params(0))
        .await
        .unwrap();
    first.submit().await.unwrap();
    assert_eq!(next_index().await, 1, "a pooled transaction counts");
    let again = format!("{:?}", first.submit().await.unwrap_err());
    assert!(again.contains("1013"), "{again}");
    let rival = at
        .transactions()
        .create_signed(&transfer(2_000), &keys::alice(), params(0))
        .await
        .unwrap();
    let rival = format!("{:?}", rival.submit().await.unwrap_err());
    assert!(rival.contains("1014"), "{rival}");

    node.shared().author_block().unwrap();
    assert_eq!(next_index().await, 1, "now on chain");
    let stale = format!("{:?}", first.submit().await.unwrap_err());
    assert!(
        stale.contains("1010") && stale.contains("outdated"),
        "{stale}"
    );
}

/// Signs `call` with `signer`, submits it and waits for its block.
async fn submit<C: subxt::transactions::Payload>(
    api: &OnlineClient<PolkadotConfig>,
    call: C,
    signer: subxt_signer::sr25519::Keypair,
) -> Result<(), String> {
    api.at_current_block()
        .await
        .map_err(|e| format!("{e:?}"))?
        .transactions()
        .sign_and_submit_then_watch_default(&call, &signer)
        .await
        .map_err(|e| format!("{e:?}"))?
        .wait_for_finalized_success()
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// Polls `f` every 20 ms for up to 10 s until it returns `Some`.
async fn eventually<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..500 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("condition not reached in 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitments_weights_and_epochs_through_subxt() {
    let node = node(20, false, dev::genesis(vec![dev::fast_subnet(1, 5)])).await;
    let api = client(&node).await;
    let (bob, charlie) = (keys::bob(), keys::charlie());
    let (bob_key, charlie_key) = (bob.public_key().0.to_vec(), charlie.public_key().0.to_vec());
    for hotkey in [&bob, &charlie] {
        let register = dynamic::transaction(
            "SubtensorModule",
            "burned_register",
            (1u16, Value::from_bytes(hotkey.public_key().0)),
        );
        submit(&api, register, keys::alice()).await.unwrap();
    }
    let stake = dynamic::transaction(
        "SubtensorModule",
        "add_stake",
        (
            Value::from_bytes(bob.public_key().0),
            1u16,
            100_000_000_000u64,
        ),
    );
    submit(&api, stake, keys::alice()).await.unwrap();

    // A raw commitment, read back from storage.
    let field = Value::variant(
        "Raw4",
        subxt::ext::scale_value::Composite::unnamed([Value::from_bytes(b"kiln")]),
    );
    let commit = dynamic::transaction(
        "Commitments",
        "set_commitment",
        (
            1u16,
            Value::named_composite([("fields", Value::unnamed_composite([field]))]),
        ),
    );
    submit(&api, commit, bob.clone()).await.unwrap();
    let at = api.at_current_block().await.unwrap();
    let entry = dynamic::storage::<(u16, [u8; 32]), Value>("Commitments", "CommitmentOf");
    let stored = at
        .storage()
        .fetch(entry, (1u16, bob.public_key().0))
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert!(format!("{stored:?}").contains("Raw4"), "{stored:?}");

    // After an epoch Bob holds a permit; his weights make Charlie the miner of the next epoch.
    let permits = dynamic::storage::<(u16,), Vec<bool>>("SubtensorModule", "ValidatorPermit");
    eventually(|| {
        let (api, permits) = (api.clone(), permits.clone());
        async move {
            let at = api.at_current_block().await.ok()?;
            let p = at
                .storage()
                .fetch(permits, (1u16,))
                .await
                .ok()?
                .decode()
                .ok()?;
            (p.get(1) == Some(&true)).then_some(())
        }
    })
    .await;
    let weights = dynamic::transaction(
        "SubtensorModule",
        "set_weights",
        (1u16, vec![2u16], vec![65535u16], 0u64),
    );
    submit(&api, weights, bob).await.unwrap();
    let incentive = dynamic::storage::<(u16,), Vec<u16>>("SubtensorModule", "Incentive");
    let got = eventually(|| {
        let (api, incentive) = (api.clone(), incentive.clone());
        async move {
            let at = api.at_current_block().await.ok()?;
            let v = at
                .storage()
                .fetch(incentive, (1u16,))
                .await
                .ok()?
                .decode()
                .ok()?;
            (v.get(2) == Some(&65535)).then_some(v)
        }
    })
    .await;
    assert_eq!(got, [0, 0, 65535]);

    // subtensor's runtime APIs see the same subnet, decoded through the chain's metadata.
    let at = api.at_current_block().await.unwrap();
    let lite = at
        .runtime_apis()
        .call(dynamic::runtime_api_call::<_, Value>(
            "NeuronInfoRuntimeApi",
            "get_neurons_lite",
            (1u16,),
        ))
        .await
        .unwrap();
    let field = |v: &Value, name: &str| v.at(name).and_then(Value::as_u128);
    let neurons: Vec<&Value> = (0..3).map(|uid| lite.at(uid).expect("3 neurons")).collect();
    assert!(lite.at(3).is_none(), "{lite:?}");
    let incentives: Vec<_> = neurons.iter().map(|n| field(n, "incentive")).collect();
    assert_eq!(incentives, [Some(0), Some(0), Some(65535)]);
    assert_eq!(field(neurons[2], "uid"), Some(2));
    assert_eq!(bytes(neurons[1].at("hotkey").unwrap()), bob_key);
    assert_eq!(
        neurons[1].at("validator_permit").and_then(Value::as_bool),
        Some(true)
    );
    let stake = neurons[1]
        .at("stake")
        .and_then(|s| s.at(0))
        .and_then(|s| s.at(1));
    assert!(
        stake.and_then(Value::as_u128).unwrap_or(0) >= 100_000_000_000,
        "{stake:?}"
    );

    let graph = at
        .runtime_apis()
        .call(dynamic::runtime_api_call::<_, Value>(
            "SubnetInfoRuntimeApi",
            "get_metagraph",
            (1u16,),
        ))
        .await
        .unwrap();
    let graph = graph.at(0).expect("Some(metagraph) for subnet 1");
    assert_eq!(field(graph, "num_uids"), Some(3));
    assert_eq!(field(graph, "tempo"), Some(5));
    let list = |name: &str| -> Vec<Option<u128>> {
        (0..3)
            .map(|i| {
                graph
                    .at(name)
                    .and_then(|l| l.at(i))
                    .and_then(Value::as_u128)
            })
            .collect()
    };
    assert_eq!(list("incentives"), [Some(0), Some(0), Some(65535)]);
    assert_eq!(
        bytes(graph.at("hotkeys").and_then(|h| h.at(2)).unwrap()),
        charlie_key
    );
    let missing = at
        .runtime_apis()
        .call(dynamic::runtime_api_call::<_, Value>(
            "SubnetInfoRuntimeApi",
            "get_metagraph",
            (9u16,),
        ))
        .await
        .unwrap();
    assert!(missing.at(0).is_none(), "no subnet 9: {missing:?}");
}

/// The bytes of a decoded account id (or any composite of u8s).
fn bytes(v: &Value) -> Vec<u8> {
    use subxt::ext::scale_value::ValueDef;
    match &v.value {
        ValueDef::Composite(c) => c.values().flat_map(bytes).collect(),
        ValueDef::Primitive(p) => {
            vec![u8::try_from(p.as_u128().expect("a number")).expect("a byte")]
        }
        other => panic!("not bytes: {other:?}"),
    }
}

/// The best block number.
async fn best(api: &OnlineClient<PolkadotConfig>) -> u64 {
    api.at_current_block().await.unwrap().block_number()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axons_commitment_quota_commit_reveal_and_bad_transactions_through_subxt() {
    // A long tempo: no epoch resets the commitment quota while it fills up.
    let node = node(20, false, dev::genesis(vec![dev::fast_subnet(1, 1000)])).await;
    let api = client(&node).await;
    // A hotkey that holds no TAO signs every fee-less call below.
    let hot =
        subxt_signer::sr25519::Keypair::from_uri(&"//kiln-unfunded".parse().unwrap()).unwrap();
    let hot_key = hot.public_key().0;
    let register = dynamic::transaction(
        "SubtensorModule",
        "burned_register",
        (1u16, Value::from_bytes(hot_key)),
    );
    submit(&api, register, keys::alice()).await.unwrap();

    let serve = dynamic::transaction(
        "SubtensorModule",
        "serve_axon",
        (1u16, 1u32, 0x0a00_0001u128, 8091u16, 4u8, 4u8, 0u8, 0u8),
    );
    submit(&api, serve, hot.clone()).await.unwrap();
    let axons = dynamic::storage::<(u16, [u8; 32]), Value>("SubtensorModule", "Axons");
    let at = api.at_current_block().await.unwrap();
    let axon = at.storage().fetch(axons, (1u16, hot_key)).await.unwrap();
    let axon = axon.decode().unwrap();
    assert_eq!(axon.at("port").and_then(Value::as_u128), Some(8091));

    // Three 128-byte fields charge 384 bytes: eight fit in 3,100, the ninth does not.
    let field = || {
        Value::variant(
            "Raw128",
            subxt::ext::scale_value::Composite::unnamed([Value::from_bytes([7u8; 128])]),
        )
    };
    let commit = || {
        dynamic::transaction(
            "Commitments",
            "set_commitment",
            (
                1u16,
                Value::named_composite([(
                    "fields",
                    Value::unnamed_composite([field(), field(), field()]),
                )]),
            ),
        )
    };
    for _ in 0..8 {
        submit(&api, commit(), hot.clone()).await.unwrap();
    }
    let full = submit(&api, commit(), hot.clone()).await.unwrap_err();
    assert!(full.contains("SpaceLimitExceeded"), "{full}");

    // A transaction whose mortal era has passed, and one whose signature was altered.
    let transfer = dynamic::transaction(
        "Balances",
        "transfer_keep_alive",
        (keys::bob().public_key().to_address::<()>(), 1_000u64),
    );
    let at = api.at_current_block().await.unwrap();
    let params = subxt::config::DefaultExtrinsicParamsBuilder::<PolkadotConfig>::new()
        .mortal(4)
        .build();
    let mortal = at
        .transactions()
        .create_signed(&transfer, &keys::alice(), params)
        .await
        .unwrap();
    let born = best(&api).await;
    while best(&api).await < born + 10 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Past its era the birth block the runtime derives is another block. Its hash is either
    // one the signature did not cover ("bad signature") or, when that block is the one being
    // validated for, not yet stored ("ancient birth block"): Substrate answers either way,
    // depending on where the current block falls within the era's period.
    let expired = format!("{:?}", mortal.submit().await.unwrap_err());
    assert!(
        expired.contains("1010")
            && (expired.contains("bad signature") || expired.contains("ancient birth block")),
        "{expired}"
    );
    let fresh = at
        .transactions()
        .create_signed(&transfer, &keys::alice(), Default::default())
        .await
        .unwrap();
    let included = fresh
        .submit_and_watch()
        .await
        .unwrap()
        .wait_for_finalized_success()
        .await;
    assert!(included.is_ok(), "the same call, immortal, is accepted");

    let at = api.at_current_block().await.unwrap();
    let signed = at
        .transactions()
        .create_signed(&transfer, &keys::alice(), Default::default())
        .await
        .unwrap();
    let mut bytes = signed.encoded().to_vec();
    // Compact length (2 bytes here), version, address (1 + 32), signature variant, then the
    // 64 signature bytes: flip one of them.
    bytes[2 + 1 + 33 + 1 + 10] ^= 0xff;
    let rpc = subxt::rpcs::RpcClient::from_insecure_url(node.ws_url())
        .await
        .unwrap();
    let forged = rpc
        .request::<String>(
            "author_submitExtrinsic",
            subxt::rpcs::rpc_params![format!("0x{}", hex(&bytes))],
        )
        .await
        .unwrap_err();
    let forged = format!("{forged:?}");
    assert!(
        forged.contains("1010") && forged.contains("bad signature"),
        "{forged}"
    );

    // Commit-reveal v2: the owner turns it on with a 200-block tempo (4 s: room for a busy
    // machine); the hotkey commits to weights on itself (uid 1) and reveals them in the next
    // epoch, not before.
    const TEMPO: u64 = 200;
    for (call, args) in [
        ("sudo_set_commit_reveal_weights_enabled", Value::bool(true)),
        ("sudo_set_tempo", Value::u128(u128::from(TEMPO))),
    ] {
        let set = dynamic::transaction("AdminUtils", call, (1u16, args));
        submit(&api, set, keys::alice()).await.unwrap();
    }
    let (uids, values, salt, version) = (vec![1u16], vec![65535u16], vec![7u16, 9], 0u64);
    let hash = sp_io::hashing::blake2_256(&codec::Encode::encode(&(
        hot_key, 1u16, &uids, &values, &salt, version,
    )));
    // Commit early in an epoch, so the reveal's epoch is the next one.
    while best(&api).await % TEMPO > 20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let commit = dynamic::transaction(
        "SubtensorModule",
        "commit_weights",
        (1u16, Value::from_bytes(hash)),
    );
    submit(&api, commit, hot.clone()).await.unwrap();
    // The epoch the chain recorded for the commit: (hash, epoch, block, 0).
    let commits = dynamic::storage::<(u16, [u8; 32]), Vec<([u8; 32], u64, u64, u64)>>(
        "SubtensorModule",
        "WeightCommits",
    );
    let at = api.at_current_block().await.unwrap();
    let stored = at.storage().fetch(commits, (1u16, hot_key)).await.unwrap();
    let stored = stored.decode().unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].0, hash);
    let committed_epoch = stored[0].1;
    let reveal = || {
        dynamic::transaction(
            "SubtensorModule",
            "reveal_weights",
            (1u16, uids.clone(), values.clone(), salt.clone(), version),
        )
    };
    let early = submit(&api, reveal(), hot.clone()).await.unwrap_err();
    assert!(early.contains("RevealTooEarly"), "{early}");
    while best(&api).await / TEMPO <= committed_epoch {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    submit(&api, reveal(), hot.clone()).await.unwrap();
    let weights = dynamic::storage::<(u16, u16), Vec<(u16, u16)>>("SubtensorModule", "Weights");
    let at = api.at_current_block().await.unwrap();
    let row = at.storage().fetch(weights, (1u16, 1u16)).await.unwrap();
    assert_eq!(row.decode().unwrap(), [(1, 65535)]);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
