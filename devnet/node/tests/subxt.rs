//! An unmodified subxt client (legacy backend, chosen by `rpc_methods`) against a devnet on a
//! free port: storage reads, signed dynamic transactions with finality and events, dispatch
//! errors by subtensor's names, and pool rejections.

use kiln_devnet::{NodeConfig, NodeHandle, spawn};
use kiln_devnet_runtime::dev;
use subxt::dynamic::{self, Value};
use subxt::{OnlineClient, PolkadotConfig};
use subxt_signer::sr25519::dev as keys;

async fn node() -> NodeHandle {
    spawn(NodeConfig {
        port: 0,
        block_time_ms: 1_000,
        instant: true,
        genesis: dev::genesis(vec![dev::fast_subnet(1, 5)]),
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subxt_registers_reads_storage_and_sees_errors() {
    let node = node().await;
    let api = OnlineClient::<PolkadotConfig>::from_insecure_url(node.ws_url())
        .await
        .unwrap();
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
    let node = spawn(NodeConfig {
        port: 0,
        block_time_ms: 3_600_000,
        instant: false,
        genesis: dev::genesis(vec![]),
    })
    .await
    .unwrap();
    let api = OnlineClient::<PolkadotConfig>::from_insecure_url(node.ws_url())
        .await
        .unwrap();
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
    let at = api.at_current_block().await.unwrap();
    let first = at
        .transactions()
        .create_signed(&transfer(1_000), &keys::alice(), params(0))
        .await
        .unwrap();
    first.submit().await.unwrap();
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
    let stale = format!("{:?}", first.submit().await.unwrap_err());
    assert!(
        stale.contains("1010") && stale.contains("outdated"),
        "{stale}"
    );
}
