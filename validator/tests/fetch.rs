//! Fetching committed artifacts from two real gateways (HTTP, local stores): the locator picks
//! the gateway, anything else goes to the validator's own, and each outcome is what the verdict
//! needs (bytes, not found, too large, unreachable); probes tell live gateways from dead ones.

use bytes::Bytes;
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_runtime_client::keys::{account, from_secret};
use kiln_storage_gateway::http::{Limits, system_clock};
use kiln_storage_gateway::{
    AppState, ArtifactStore, Gateway, GatewayClient, StaticRegistry, StoreConfig,
};
use kiln_validator::fetch::{self, Sources};
use kiln_validator::probe::Outages;
use kiln_validator::window::Download;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const NETUID: u16 = 1;

async fn gateway(dir: &std::path::Path) -> Gateway {
    let store = StoreConfig::Local {
        dir: dir.to_path_buf(),
    }
    .open()
    .unwrap();
    let bob = account(&from_secret("//Bob").unwrap());
    let state = AppState::new(
        ArtifactStore::new(store, "artifacts"),
        Arc::new(StaticRegistry::new([bob])),
        Limits {
            netuid: NETUID,
            max_bytes: 1 << 20,
            timestamp_window_ms: 60_000,
            burst: 64,
            per_minute: 600,
            ..Limits::default()
        },
        system_clock(),
        None,
    );
    Gateway::start(state, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap()
}

fn client(url: &str) -> GatewayClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    GatewayClient::new(url, NETUID, Duration::from_secs(5), 0).unwrap()
}

fn commitment(bytes: &[u8], locator: &str) -> Commitment {
    Commitment {
        kind: CommitmentKind::Artifact,
        window: 3,
        digest: *blake3::hash(bytes).as_bytes(),
        byte_len: bytes.len() as u64,
        locator: locator.into(),
    }
}

#[tokio::test]
async fn the_locator_picks_the_gateway_and_each_outcome_is_reported() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (gateway(dir_a.path()).await, gateway(dir_b.path()).await);
    let bob = from_secret("//Bob").unwrap();
    let on_b = b"an artifact only gateway b holds".repeat(4);
    let large = vec![7u8; 4096];
    client(&b.url())
        .upload(&bob, Bytes::from(on_b.clone()))
        .await
        .unwrap();
    client(&a.url())
        .upload(&bob, Bytes::from(large.clone()))
        .await
        .unwrap();
    // A port nothing listens on.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let sources = Sources::new(
        client(&a.url()),
        BTreeMap::from([
            ("b".to_string(), client(&b.url())),
            ("down".into(), client(&down)),
        ]),
    );

    assert_eq!(
        sources.fetch(&commitment(&on_b, "b"), 1 << 20).await,
        Download::Bytes(on_b.clone())
    );
    // Unknown locators go to the validator's own gateway, which lacks it.
    assert_eq!(
        sources.fetch(&commitment(&on_b, "gw"), 1 << 20).await,
        Download::NotFound
    );
    assert_eq!(
        sources.fetch(&commitment(&large, "gw"), 1 << 20).await,
        Download::Bytes(large.clone())
    );
    // Nothing larger than the limit is read.
    assert_eq!(
        sources.fetch(&commitment(&large, "gw"), 1000).await,
        Download::TooLarge(4096)
    );
    assert!(matches!(
        sources.fetch(&commitment(&on_b, "down"), 1 << 20).await,
        Download::Unreachable(_)
    ));

    // Probes: both live gateways answer, the dead one fails; the outage record names it by the
    // locator that reaches it, and unknown locators by the validator's own gateway.
    let mut outages = Outages::new(100);
    for (name, gateway) in sources.gateways() {
        outages.record(
            name,
            10,
            fetch::probe(gateway, Duration::from_secs(3)).await,
        );
    }
    let names: Vec<&str> = sources.gateways().map(|(n, _)| n).collect();
    assert_eq!(names, [fetch::OWN_GATEWAY, "b", "down"]);
    assert_eq!(outages.during(sources.gateway_name("gw"), 0..=20), None);
    assert_eq!(outages.during(sources.gateway_name("b"), 0..=20), None);
    let outage = outages
        .during(sources.gateway_name("down"), 0..=20)
        .expect("the dead gateway's probe failed");
    assert_eq!(outage.block, 10);
    assert!(outage.reason.contains("transport"), "{}", outage.reason);
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
