//! `kiln miner` as operators run it: separate processes against a devnet and a storage gateway
//! (on a real S3 server where the test says so). Each test reads the miner's JSON events and
//! checks what reached the chain and the gateway.

mod common;

use common::*;
use kiln_miner::MinerState;
use kiln_protocol::aggregation::{AggregationManifest, Peer};
use kiln_protocol::artifact::{Artifact, DecodeOptions};
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::{Digest, Hparams};
use kiln_runtime_client::keys::{account, from_secret};
use kiln_runtime_client::{Client, Keypair};
use kiln_storage_gateway::GatewayClient;
use kiln_training::{Model, outer_step_from_messages};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Plays the lead validator's aggregation step: averages the window's artifacts into its model,
/// uploads the manifest and commits its hash (as //Ferdie, uid 0).
struct Aggregator {
    model: Model,
    prev: Digest,
    gateway: GatewayClient,
    key: Keypair,
    hparams: Hparams,
}

impl Aggregator {
    async fn publish(
        &mut self,
        chain: &Client,
        window: u64,
        peers: &BTreeMap<u16, Digest>,
    ) -> Digest {
        let mut artifacts = Vec::new();
        for digest in peers.values() {
            let bytes = self.gateway.download(digest).await.unwrap();
            artifacts.push(Artifact::decode(&bytes, &DecodeOptions::default()).unwrap());
        }
        let base = self.model.state_hash().unwrap();
        let messages: Vec<&[kiln_protocol::SparseTensor]> =
            artifacts.iter().map(|a| a.tensors.as_slice()).collect();
        outer_step_from_messages(&self.model, &messages, &self.hparams.outer).unwrap();
        let manifest = AggregationManifest {
            netuid: NETUID,
            window,
            hparams_hash: self.hparams.hparams_hash(),
            base_model_hash: base,
            result_model_hash: self.model.state_hash().unwrap(),
            prev_manifest: self.prev,
            checkpoint: [0; 32],
            peers: peers
                .iter()
                .map(|(&uid, &digest)| Peer { uid, digest })
                .collect(),
        };
        let bytes = manifest.encode().unwrap();
        let receipt = self
            .gateway
            .upload(&self.key, bytes.clone().into())
            .await
            .unwrap();
        let commitment = Commitment {
            kind: CommitmentKind::Manifest,
            window,
            digest: receipt.digest,
            byte_len: bytes.len() as u64,
            locator: "gw".into(),
        };
        chain
            .set_commitment(NETUID, &self.key, &commitment.encode().unwrap())
            .await
            .unwrap();
        self.prev = receipt.digest;
        manifest.result_model_hash
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_miners_commit_three_windows_through_the_gateway_on_s3() {
    let Some(net) = net(true).await else { return };
    let url = net.gateway.url();
    let gateway = GatewayClient::new(&url, NETUID, Duration::from_secs(30), 2).unwrap();
    let hparams = Hparams::tiny();
    let keys = [("//Bob", 1u16), ("//Charlie", 2u16)];
    at_window_start(&net.chain).await;
    let mut miners: Vec<MinerProc> = keys
        .iter()
        .map(|(k, _)| MinerProc::start(&net, k, &url, &["--windows", "3"]))
        .collect();
    let genesis_hash = genesis().state_hash().unwrap();
    for (m, (_, uid)) in miners.iter_mut().zip(&keys) {
        let started = m.next(120).await;
        assert_eq!(started["event"], "started");
        assert_eq!(started["uid"], *uid);
        assert_eq!(digest(&started["model_hash"]), genesis_hash);
    }

    let mut aggregator = Aggregator {
        model: genesis(),
        prev: [0; 32],
        gateway: gateway.clone(),
        key: from_secret("//Ferdie").unwrap(),
        hparams: hparams.clone(),
    };
    // Per miner: its window reports, and the model it last synced to.
    let mut reports: Vec<Vec<Value>> = vec![Vec::new(), Vec::new()];
    let mut synced: Vec<Vec<Digest>> = vec![Vec::new(), Vec::new()];
    let mut published: BTreeMap<u64, Digest> = BTreeMap::new();
    let mut by_window: BTreeMap<u64, BTreeMap<u16, Digest>> = BTreeMap::new();
    while reports.iter().any(|r| r.len() < 3) {
        for (i, m) in miners.iter_mut().enumerate() {
            if reports[i].len() == 3 {
                continue;
            }
            let Ok(Some(e)) =
                tokio::time::timeout(Duration::from_millis(100), m.events.recv()).await
            else {
                continue;
            };
            match e["event"].as_str().unwrap() {
                "window" => {
                    assert_eq!(e["outcome"], "committed", "{e}");
                    let w = e["window"].as_u64().unwrap();
                    by_window
                        .entry(w)
                        .or_default()
                        .insert(keys[i].1, digest(&e["digest"]));
                    // The base the miner trained from is the genesis model or the last
                    // manifest result it synced to.
                    let base = digest(&e["base_model_hash"]);
                    assert_eq!(base, *synced[i].last().unwrap_or(&genesis_hash));
                    reports[i].push(e);
                }
                "synced" => {
                    let model = digest(&e["model_hash"]);
                    let last = e["windows"].as_array().unwrap().last().unwrap();
                    assert_eq!(
                        published.get(&last.as_u64().unwrap()),
                        Some(&model),
                        "the miner's replica equals the validator's after {e}"
                    );
                    synced[i].push(model);
                }
                other => panic!("unexpected event {other}: {e}"),
            }
        }
        // Publish a window's manifest once every miner has moved past it.
        let done = reports
            .iter()
            .map(|r| r.last().map_or(0, |e| e["window"].as_u64().unwrap()))
            .min()
            .unwrap();
        let ready: Vec<u64> = by_window
            .range(..=done)
            .map(|(w, _)| *w)
            .filter(|w| !published.contains_key(w) && published.keys().all(|p| p < w))
            .collect();
        for w in ready {
            let result = aggregator.publish(&net.chain, w, &by_window[&w]).await;
            published.insert(w, result);
        }
    }
    for m in &mut miners {
        m.wait_ok();
    }
    assert!(
        synced.iter().all(|s| !s.is_empty()),
        "each miner applied at least one manifest: {synced:?}"
    );
    let cached = std::fs::read_dir(net.dir.path().join("cache"))
        .unwrap()
        .count();
    assert!(cached > 0, "the S3 dataset's shards are cached locally");

    // A miner on other hparams than the subnet's manifests name refuses to start.
    let other = net.dir.path().join("other.toml");
    let mut h = Hparams::tiny();
    h.name = "another-run".into();
    std::fs::write(&other, h.to_toml_string()).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args([
            "miner",
            "--json",
            "--chain",
            &net.node.ws_url(),
            "--gateway",
            &url,
        ])
        .args([
            "--hotkey-uri",
            "//Bob",
            "--hparams",
            other.to_str().unwrap(),
        ])
        .args(&net.dataset_args)
        .arg("--state-dir")
        .arg(net.dir.path().join("other-state"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("belongs to another hparams hash"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty(), "it never started");

    for (i, (key, uid)) in keys.iter().enumerate() {
        let hotkey = from_secret(key).unwrap();
        let mut windows = Vec::new();
        for e in &reports[i] {
            let w = e["window"].as_u64().unwrap();
            windows.push(w);
            let block = e["block"].as_u64().unwrap();
            let d = digest(&e["digest"]);
            let c = commitment_at(&net.chain, &hotkey, block).await.unwrap();
            assert_eq!(
                (c.kind, c.window, c.digest, c.byte_len),
                (CommitmentKind::Artifact, w, d, e["bytes"].as_u64().unwrap())
            );
            let bytes = gateway.download(&d).await.unwrap();
            assert_eq!(blake3::hash(&bytes).as_bytes(), &d);
            let a = Artifact::decode(&bytes, &DecodeOptions::default()).unwrap();
            assert_eq!(a.header.window, w);
            assert_eq!(a.header.uid, *uid);
            assert_eq!(a.header.netuid, NETUID);
            assert_eq!(a.header.hotkey, account(&hotkey).0);
            assert_eq!(a.header.base_model_hash, digest(&e["base_model_hash"]));
            assert_eq!(a.header.hparams_hash, hparams.hparams_hash());
        }
        assert!(
            windows.windows(2).all(|p| p[1] == p[0] + 1),
            "three consecutive windows: {windows:?}"
        );
    }
}

/// The state file's error-feedback hash, read the way a restarted miner reads it.
fn saved_feedback(net: &Net, hotkey: &str, uid: u16) -> (Digest, Option<u64>) {
    let h = Hparams::tiny();
    let model = genesis();
    let specs = model
        .codec_specs(h.compression.chunk, h.compression.topk)
        .unwrap();
    let identity = kiln_miner::Identity {
        netuid: NETUID,
        uid,
        hotkey: account(&from_secret(hotkey).unwrap()).0,
        hparams_hash: h.hparams_hash(),
    };
    let s = MinerState::load(
        &Path::new(&state_dir(net, hotkey)).join(kiln_miner::node::STATE_FILE),
        identity,
        specs,
        h.compression.error_feedback_decay as f32,
    )
    .unwrap()
    .unwrap();
    (s.feedback.buffers_hash(), s.last_window)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_miner_resumes_its_error_feedback_and_commits_the_next_window() {
    let Some(net) = net(false).await else { return };
    let url = net.gateway.url();
    at_window_start(&net.chain).await;
    let metrics = free_addr();
    let mut miner = MinerProc::start(&net, "//Bob", &url, &["--metrics-listen", &metrics]);
    let serving = miner.next(120).await;
    assert_eq!(serving["event"], "metrics", "{serving}");
    assert_eq!(serving["listen"], metrics.as_str(), "{serving}");
    assert_eq!(miner.next(120).await["event"], "started");
    let first = miner.next(60).await;
    assert_eq!(first["outcome"], "committed", "{first}");
    let (status, scrape) = http_get(&metrics, "/metrics");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    for line in [
        "kiln_miner_windows_total{outcome=\"committed\"} 1",
        "kiln_miner_tokens_total 2048",
        "kiln_miner_upload_seconds_count 1",
    ] {
        assert!(scrape.contains(line), "{line} missing from:\n{scrape}");
    }
    let window = first["window"].as_u64().unwrap();
    // Half a window later the miner is idle or working on nothing yet: kill it without warning.
    tokio::time::sleep(Duration::from_millis(BLOCK_MS * 10)).await;
    miner.child.kill().unwrap();
    miner.child.wait().unwrap();
    let mut before = digest(&first["feedback_hash"]);
    let mut last = window;
    // Whatever it reported before dying (the channel closes at the pipe's end).
    while let Some(e) = miner.events.recv().await {
        if e["event"] == "window" && e["outcome"] == "committed" {
            before = digest(&e["feedback_hash"]);
            last = e["window"].as_u64().unwrap();
        }
    }
    assert_eq!(saved_feedback(&net, "//Bob", 1), (before, Some(last)));

    let mut restarted = MinerProc::start(&net, "//Bob", &url, &["--windows", "1"]);
    let started = restarted.next(120).await;
    assert_eq!(started["event"], "started");
    assert_eq!(
        digest(&started["feedback_hash"]),
        before,
        "same error feedback"
    );
    assert_eq!(started["last_window"], last);
    let next = restarted.next(60).await;
    assert_eq!(next["outcome"], "committed", "{next}");
    assert!(next["window"].as_u64().unwrap() > last);
    assert_ne!(digest(&next["feedback_hash"]), before);
    restarted.wait_ok();
    let c = commitment_at(
        &net.chain,
        &from_secret("//Bob").unwrap(),
        next["block"].as_u64().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(c.window, next["window"].as_u64().unwrap());
}

/// A gateway stand-in that answers every request only after `delay`.
fn slow_gateway(delay: Duration) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut buf = vec![0u8; 1 << 16];
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
                std::thread::sleep(delay);
                let _ = stream.write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_miner_whose_upload_outlasts_the_deadline_commits_nothing() {
    let Some(net) = net(false).await else { return };
    // The upload "succeeds" a window and a half later: past any deadline.
    let slow = slow_gateway(Duration::from_millis(BLOCK_MS * 30));
    at_window_start(&net.chain).await;
    let mut miner = MinerProc::start(&net, "//Charlie", &slow, &["--windows", "1"]);
    let started = miner.next(120).await;
    assert_eq!(started["event"], "started");
    let report = miner.next(120).await;
    assert_eq!(report["outcome"], "too_late", "{report}");
    assert!(report["block"].as_u64().unwrap() + 1 > report["deadline"].as_u64().unwrap());
    miner.wait_ok();
    // Nothing on chain, and the update stayed in the error feedback.
    let charlie = from_secret("//Charlie").unwrap();
    let now = net.chain.current_block().await.unwrap();
    assert_eq!(commitment_at(&net.chain, &charlie, now).await, None);
    let (feedback, last) = saved_feedback(&net, "//Charlie", 2);
    assert_eq!(last, None);
    assert_eq!(feedback, digest(&report["feedback_hash"]));
    assert_ne!(feedback, digest(&started["feedback_hash"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_miner_whose_gateway_fails_past_the_deadline_commits_and_uploads_late() {
    let Some(net) = net(false).await else { return };
    let proxy = common::fault::FaultProxy::start(net.gateway.addr()).await;
    proxy.set_down(true);
    at_window_start(&net.chain).await;
    let mut miner = MinerProc::start(&net, "//Charlie", &proxy.url, &["--windows", "2"]);
    assert_eq!(miner.next(120).await["event"], "started");
    // Every upload attempt of the window fails on the gateway's side, yet the digest is
    // committed in time.
    let first = miner.next(120).await;
    assert_eq!(first["outcome"], "committed", "{first}");
    let d = digest(&first["digest"]);
    let charlie = from_secret("//Charlie").unwrap();
    let block = first["block"].as_u64().unwrap();
    let on_chain = commitment_at(&net.chain, &charlie, block).await.unwrap();
    assert_eq!(on_chain.digest, d);
    let direct =
        GatewayClient::new(&net.gateway.url(), NETUID, Duration::from_secs(10), 0).unwrap();
    assert_eq!(direct.head(&d).await.unwrap(), None, "not uploaded yet");
    // The gateway recovers: the committed artifact arrives while the miner works on the next
    // window, and it is the bytes the digest names.
    proxy.set_down(false);
    let mut stored = None;
    for _ in 0..100 {
        stored = direct.head(&d).await.unwrap();
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(BLOCK_MS)).await;
    }
    assert_eq!(
        stored,
        Some(on_chain.byte_len),
        "the late upload never arrived"
    );
    let bytes = direct.download(&d).await.unwrap();
    Artifact::decode(&bytes, &DecodeOptions::default()).unwrap();
    let second = miner.next(120).await;
    assert_eq!(second["outcome"], "committed", "{second}");
    miner.wait_ok();
}
