//! The gateway as it runs: over TCP, registrations read from a devnet, artifacts in a real S3
//! server, used through the typed client. 32 concurrent 8 MB uploads; retention.

mod common;

use bytes::Bytes;
use kiln_devnet::{NodeConfig, spawn};
use kiln_devnet_runtime::dev;
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::window::WindowClock;
use kiln_runtime_client::keys::{account, from_secret};
use kiln_runtime_client::{Client, ClientOptions, Network};
use kiln_storage_gateway::http::{Limits, system_clock};
use kiln_storage_gateway::{
    AppState, ChainRegistry, Gateway, GatewayClient, GatewayClientError, gc,
};
use std::sync::Arc;
use std::time::Duration;

const NETUID: u16 = 1;

fn limits() -> Limits {
    Limits {
        netuid: NETUID,
        max_bytes: 64 << 20,
        timestamp_window_ms: 60_000,
        burst: 64,
        per_minute: 600,
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registered_hotkeys_upload_to_s3_through_the_gateway() {
    let Some(weed) = common::weed().await else {
        return;
    };
    let node = spawn(NodeConfig {
        state_file: None,
        port: 0,
        block_time_ms: 20,
        instant: false,
        genesis: dev::genesis(vec![dev::fast_subnet(NETUID, 10)]),
    })
    .await
    .unwrap();
    let chain = Client::connect(Network::Url(node.ws_url()), ClientOptions::default())
        .await
        .unwrap();
    let (alice, bob, charlie) = (
        from_secret("//Alice").unwrap(),
        from_secret("//Bob").unwrap(),
        from_secret("//Charlie").unwrap(),
    );
    chain
        .burned_register(NETUID, &alice, &account(&bob))
        .await
        .unwrap();

    let registry = ChainRegistry::start(chain.clone(), NETUID, Duration::from_secs(3600)).await;
    let state = AppState::new(
        common::store(&weed),
        Arc::new(registry),
        limits(),
        system_clock(),
        Some(kiln_storage_gateway::server::prometheus()),
    );
    let gateway = Gateway::start(state, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let client = GatewayClient::new(&gateway.url(), NETUID, Duration::from_secs(60), 2).unwrap();

    let body = Bytes::from(vec![42u8; 3 << 20]);
    let receipt = client.upload(&bob, body.clone()).await.unwrap();
    assert!(receipt.stored);
    assert_eq!(client.download(&receipt.digest).await.unwrap(), body);
    assert_eq!(
        client.download_range(&receipt.digest, 5..9).await.unwrap(),
        &body[5..9]
    );
    assert_eq!(
        client.head(&receipt.digest).await.unwrap(),
        Some(body.len() as u64)
    );
    assert!(
        !client.upload(&bob, body.clone()).await.unwrap().stored,
        "idempotent"
    );

    // Charlie is refused until he registers; then he can upload at once.
    let refused = client
        .upload(&charlie, Bytes::from_static(b"c"))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, GatewayClientError::Refused { status: 403, code, .. } if code == "unregistered"),
        "{refused}"
    );
    chain
        .burned_register(NETUID, &alice, &account(&charlie))
        .await
        .unwrap();
    // The unregistered answer is reused briefly, then the chain is asked again.
    tokio::time::sleep(kiln_storage_gateway::RegistryOptions::default().recheck_after).await;
    assert!(
        client
            .upload(&charlie, Bytes::from_static(b"c"))
            .await
            .unwrap()
            .stored
    );

    // 32 concurrent uploads of distinct 8 MB artifacts all land intact.
    let bodies: Vec<Bytes> = (0..32u8)
        .map(|i| {
            Bytes::from(
                (0..8usize << 20)
                    .map(|j| (j as u8).wrapping_mul(31) ^ i)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let uploads = bodies.iter().map(|b| client.upload(&bob, b.clone()));
    let receipts = futures::future::try_join_all(uploads).await.unwrap();
    for (r, b) in receipts.iter().zip(&bodies) {
        assert!(r.stored);
        assert_eq!(
            client.download(&r.digest).await.unwrap(),
            b,
            "download is verified too"
        );
    }

    // /metrics counts what happened.
    let text = reqwest::get(format!("{}/metrics", gateway.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("kiln_gateway_uploads_total"), "{text}");

    // Retention: keep what a recent commitment references, delete the rest.
    let kept = receipts[0].digest;
    let commitment = Commitment {
        kind: CommitmentKind::Artifact,
        window: chain.current_block().await.unwrap() / 5,
        digest: kept,
        byte_len: 8 << 20,
        locator: "gw:test".into(),
    };
    chain
        .set_commitment(NETUID, &bob, &commitment.encode().unwrap())
        .await
        .unwrap();
    let clock = WindowClock::new(5, 1).unwrap();
    let referenced = gc::referenced(&chain, NETUID, &clock, 2).await.unwrap();
    assert_eq!(referenced.len(), 1);
    let store = common::store(&weed);
    let dry = gc::collect(&store, &referenced, Duration::ZERO, true)
        .await
        .unwrap();
    assert_eq!(dry.scanned, 34);
    assert_eq!(dry.deleted.len(), 33);
    assert_eq!(
        store.list().await.unwrap().len(),
        34,
        "a dry run deletes nothing"
    );
    let young = gc::collect(&store, &referenced, Duration::from_secs(3600), false)
        .await
        .unwrap();
    assert_eq!((young.young, young.deleted.len()), (33, 0));
    gc::collect(&store, &referenced, Duration::ZERO, false)
        .await
        .unwrap();
    let left = store.list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].digest, kept);

    gateway.stop().await.unwrap();
}
