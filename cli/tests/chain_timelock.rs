//! `kiln chain` on a devnet subnet with timelocked commit-reveal: `hyperparams` names the mode and
//! version, and `set-weights --wait-reveal` commits to the devnet beacon's round and reports the
//! block the chain revealed the weights at, where storage holds them.

use kiln_devnet::{NodeConfig, spawn};
use kiln_devnet_runtime::{dev, subtensor};
use kiln_runtime_client::keys::{account, from_secret};
use kiln_runtime_client::{BlockSel, Client, ClientOptions, Network, TimelockedEvent};
use std::process::{Command, Output};
use std::time::Duration;

/// `kiln chain --chain <url> --netuid <netuid> <args>`, run off the async workers.
async fn chain(url: &str, netuid: u16, args: &[&str]) -> Output {
    let mut all: Vec<String> = ["chain", "--chain", url, "--netuid", &netuid.to_string()]
        .map(String::from)
        .to_vec();
    all.extend(args.iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(&all)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The number after `prefix` in `text`.
fn number_after(text: &str, prefix: &str) -> u64 {
    let rest = &text[text
        .find(prefix)
        .unwrap_or_else(|| panic!("`{prefix}` in {text}"))
        + prefix.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number after `{prefix}` in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_weights_commits_timelocked_and_waits_for_the_reveal() {
    // Subnet 1: timelocked commit-reveal, 2 s epochs at 20 ms blocks (longer than the beacon's
    // 1 s period). Subnet 2: plain weights.
    let subnets = vec![
        subtensor::GenesisSubnet {
            commit_reveal: true,
            ..dev::fast_subnet(1, 100)
        },
        dev::fast_subnet(2, 100),
    ];
    let node = spawn(NodeConfig {
        state_file: None,
        port: 0,
        block_time_ms: 20,
        instant: false,
        genesis: dev::genesis(subnets),
    })
    .await
    .unwrap();
    let url = node.ws_url();
    let client = Client::connect(Network::Url(url.clone()), ClientOptions::default())
        .await
        .unwrap();

    let o = chain(&url, 1, &["hyperparams", "--json"]).await;
    assert!(o.status.success(), "{o:?}");
    let params: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(params["commit_reveal"], "timelocked");
    assert_eq!(params["commit_reveal_version"], 4);
    assert_eq!(params["reveal_period_epochs"], 1);
    let o = chain(&url, 1, &["hyperparams"]).await;
    let text = stdout(&o);
    for line in [
        "commit_reveal            timelocked",
        "commit_reveal_version    4",
        "reveal_period_epochs     1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }

    // The block time comes from the last 10 blocks: let the devnet's slow first block pass.
    while client.current_block().await.unwrap() < 12 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The owner hotkey (//Ferdie, uid 0) weights itself.
    let args = [
        "set-weights",
        "--hotkey-uri",
        "//Ferdie",
        "--weights",
        "0:1",
        "--wait-reveal",
    ];
    let o = chain(&url, 1, &args).await;
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    let committed = number_after(&text, "weights committed in block ");
    let round = number_after(&text, "encrypted to drand round ");
    let predicted = number_after(&text, "reveals them from block ");
    let revealed = number_after(&text, "weights revealed in block ");
    assert_eq!(predicted, (committed / 100 + 1) * 100, "{text}");
    assert!((predicted..predicted + 100).contains(&revealed), "{text}");
    let beacon = client.beacon(BlockSel::Number(committed)).await.unwrap();
    assert!(round > beacon.last_stored_round, "sealed when committed");
    let weights = |n: u64| {
        let client = client.clone();
        async move { client.weights_of(1, 0, BlockSel::Number(n)).await.unwrap() }
    };
    assert!(weights(revealed - 1).await.is_empty());
    assert_eq!(weights(revealed).await, [(0, 65535)]);
    let ferdie = account(&from_secret("//Ferdie").unwrap());
    assert!(client.timelocked_events(revealed).await.unwrap().contains(
        &TimelockedEvent::Revealed {
            netuid: 1,
            hotkey: ferdie
        }
    ));

    // Plain weights where commit-reveal is off; nothing to wait for there.
    let o = chain(&url, 2, &args).await;
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("timelocked commit-reveal only"),
        "{o:?}"
    );
    let o = chain(&url, 2, &args[..5]).await;
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("weights set in block"), "{o:?}");
}
