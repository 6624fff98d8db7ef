//! What the devnet tests share: a node, a client, dev keys, polling, and `AdminUtils` setters.

use kiln_devnet::{NodeConfig, NodeHandle, spawn};
use kiln_devnet_runtime::RuntimeGenesisConfig;
use kiln_runtime_client::keys::from_secret;
use kiln_runtime_client::{Client, ClientOptions, Keypair, Network};
use std::time::Duration;
use subxt::dynamic::{self, Value};

/// A devnet on `port` (0: any) with 20 ms blocks and `genesis`.
pub(crate) async fn node(port: u16, genesis: RuntimeGenesisConfig) -> NodeHandle {
    spawn(NodeConfig {
        state_file: None,
        port,
        block_time_ms: 20,
        instant: false,
        genesis,
    })
    .await
    .unwrap()
}

/// A client of `node`.
pub(crate) async fn connect(node: &NodeHandle) -> Client {
    Client::connect(Network::Url(node.ws_url()), ClientOptions::default())
        .await
        .unwrap()
}

/// The dev key of a secret URI (`//Alice`).
pub(crate) fn key(uri: &str) -> Keypair {
    from_secret(uri).unwrap()
}

/// Polls `f` every 20 ms for up to 20 s until it returns `Some`.
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..1000 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what}: not reached in 20 s");
}

/// An `AdminUtils` setter sent by the subnet owner (//Alice), or through `Sudo` for root-only ones.
pub(crate) async fn admin(client: &Client, call: &str, args: Vec<Value>, sudo: bool) {
    let inner = dynamic::tx("AdminUtils", call, args.clone());
    let alice = key("//Alice");
    let result = if sudo {
        let runtime_call =
            Value::unnamed_variant("AdminUtils", [Value::unnamed_variant(call, args)]);
        client
            .submit(&dynamic::tx("Sudo", "sudo", vec![runtime_call]), &alice)
            .await
    } else {
        client.submit(&inner, &alice).await
    };
    let included = result.unwrap_or_else(|e| panic!("{call}: {e}"));
    assert!(
        !included.has_event("Sudo", "SudoFailed"),
        "{call} failed under sudo"
    );
}
