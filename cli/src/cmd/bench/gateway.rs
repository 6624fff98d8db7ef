//! `kiln bench gateway`: upload and download throughput through the gateway and directly to the
//! same S3 server, over loopback; with `--flood N`, honest upload throughput again while a
//! flood of at least N fresh-key, replayed and oversized uploads runs, and the chain lookups
//! the flood caused.

use super::Figures;
use super::flood::{self, Replayable};
use anyhow::Result;
use bytes::Bytes;
use clap::Args;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use kiln_runtime_client::{AccountId32, Keypair};
use kiln_storage_gateway::auth::UploadClaim;
use kiln_storage_gateway::http::{Clock, Limits, system_clock};
use kiln_storage_gateway::seaweed::SeaweedFs;
use kiln_storage_gateway::{
    AppState, ArtifactStore, CachedRegistry, Gateway, GatewayClient, GatewayConfig, HotkeySource,
    StoreConfig,
};
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `kiln bench gateway`.
#[derive(Debug, Args)]
pub(crate) struct GatewayArgs {
    /// Artifacts per pass.
    #[arg(long, default_value_t = 32)]
    artifacts: usize,
    /// Size of each artifact, MiB.
    #[arg(long, default_value_t = 8)]
    mib: usize,
    /// Transfers in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// An S3 endpoint to use instead of starting SeaweedFS (credentials from `AWS_*`).
    #[arg(long, env = "KILN_S3_ENDPOINT", requires = "s3_bucket")]
    s3_endpoint: Option<String>,
    /// Its bucket.
    #[arg(long, env = "KILN_S3_BUCKET")]
    s3_bucket: Option<String>,
    /// Also upload while a flood of at least this many unwanted requests runs (8 in 10 signed
    /// by fresh keys, 1 replayed, 1 oversized; from 127.0.0.3).
    #[arg(long)]
    flood: Option<usize>,
    /// Flood requests in flight.
    #[arg(long, default_value_t = 32)]
    flood_concurrency: usize,
    /// Simulated latency of one chain lookup of a hotkey, milliseconds.
    #[arg(long, default_value_t = 5)]
    lookup_ms: u64,
    /// Print one JSON object instead of `name value` lines.
    #[arg(long)]
    json: bool,
}

/// Registrations held in memory; a lookup costs `latency`, like a chain read.
struct Simulated {
    registered: AccountId32,
    latency: Duration,
}

impl HotkeySource for Simulated {
    type Error = std::convert::Infallible;

    fn hotkeys(&self) -> BoxFuture<'_, Result<Vec<AccountId32>, Self::Error>> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            Ok(vec![self.registered])
        })
    }

    fn is_registered<'a>(
        &'a self,
        hotkey: &'a AccountId32,
    ) -> BoxFuture<'a, Result<bool, Self::Error>> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            Ok(*hotkey == self.registered)
        })
    }
}

pub(crate) fn run(a: GatewayArgs) -> Result<()> {
    crate::cmd::block_on(run_async(a))
}

fn mbps(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / 1e6 / took.as_secs_f64()
}

async fn run_async(a: GatewayArgs) -> Result<()> {
    let (_server, config) = match (&a.s3_endpoint, &a.s3_bucket) {
        (Some(endpoint), Some(bucket)) => (
            None,
            StoreConfig::S3 {
                endpoint: Some(endpoint.clone()),
                bucket: bucket.clone(),
                region: "us-east-1".into(),
                access_key_id: None,
                secret_access_key: None,
                path_style: true,
                allow_http: endpoint.starts_with("http://"),
            },
        ),
        _ => {
            let server = SeaweedFs::start().await?;
            let config = server.store_config();
            (Some(server), config)
        }
    };
    let raw = config.open()?;
    let size = a.mib << 20;
    let total = size * a.artifacts;
    let bodies = |salt: u8| -> Vec<Bytes> {
        (0..a.artifacts)
            .map(|i| {
                let seed = blake3::hash(&[salt, i as u8, (i >> 8) as u8]);
                let mut out = vec![0u8; size];
                blake3::Hasher::new_keyed(seed.as_bytes())
                    .finalize_xof()
                    .fill(&mut out);
                Bytes::from(out)
            })
            .collect()
    };

    // Direct: multipart uploads with the gateway's part size, then whole-object reads.
    let direct = bodies(1);
    let started = Instant::now();
    futures::stream::iter(direct.iter().enumerate())
        .map(|(i, body)| direct_put(raw.clone(), format!("bench/direct/{i}"), body.clone()))
        .buffer_unordered(a.concurrency)
        .try_collect::<Vec<_>>()
        .await?;
    let up_direct = mbps(total, started.elapsed());
    let started = Instant::now();
    futures::stream::iter(0..a.artifacts)
        .map(|i| {
            let raw = raw.clone();
            async move {
                let path = object_store::path::Path::from(format!("bench/direct/{i}"));
                raw.get(&path).await?.bytes().await.map(|b| b.len())
            }
        })
        .buffer_unordered(a.concurrency)
        .try_collect::<Vec<_>>()
        .await?;
    let down_direct = mbps(total, started.elapsed());

    // Through the gateway: signed uploads (the client hashes and signs), plain GETs. The
    // gateway runs with its default limits, but no per-hotkey limit on the honest uploader.
    let hotkey = kiln_runtime_client::keys::from_secret("//Bob")?;
    let account = kiln_runtime_client::keys::account(&hotkey);
    let config = GatewayConfig::default();
    let registry = CachedRegistry::start_with(
        Simulated {
            registered: account,
            latency: Duration::from_millis(a.lookup_ms),
        },
        config.registry_options(),
    )
    .await;
    let limits = Limits {
        netuid: 1,
        max_bytes: (size as u64).max(1 << 20),
        burst: u32::MAX,
        per_minute: u32::MAX,
        ..config.limits()
    };
    let max_bytes = limits.max_bytes;
    let store = ArtifactStore::new(raw.clone(), "bench/gateway");
    let clock: Clock = system_clock();
    let state = AppState::new(
        store,
        Arc::new(registry.clone()),
        limits,
        clock.clone(),
        None,
    );
    let gateway = Gateway::start(state, "127.0.0.1:0".parse()?, None).await?;
    let client = GatewayClient::new(&gateway.url(), 1, Duration::from_secs(300), 0)?;
    let via = bodies(2);
    let started = Instant::now();
    let receipts = futures::stream::iter(via.iter())
        .map(|body| client.upload(&hotkey, body.clone()))
        .buffer_unordered(a.concurrency)
        .try_collect::<Vec<_>>()
        .await?;
    let up_gateway = mbps(total, started.elapsed());
    let http = reqwest::Client::new();
    let started = Instant::now();
    futures::stream::iter(receipts.iter())
        .map(|r| {
            let url = format!("{}/v1/artifacts/{}", gateway.url(), hex::encode(r.digest));
            let http = http.clone();
            async move {
                http.get(url)
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await
                    .map(|b| b.len())
            }
        })
        .buffer_unordered(a.concurrency)
        .try_collect::<Vec<_>>()
        .await?;
    let down_gateway = mbps(total, started.elapsed());

    let mut f = Figures::default();
    f.put("artifacts", a.artifacts);
    f.put("artifact_mib", a.mib);
    f.put("concurrency", a.concurrency);
    f.put("upload_direct_mbps", round1(up_direct));
    f.put("upload_gateway_mbps", round1(up_gateway));
    f.put("upload_ratio", round3(up_gateway / up_direct));
    f.put("download_direct_mbps", round1(down_direct));
    f.put("download_gateway_mbps", round1(down_gateway));
    f.put("download_ratio", round3(down_gateway / down_direct));

    if let Some(n) = a.flood {
        let replay = replayable(&hotkey, &clock)?;
        let requests = flood::prepare(n, 1, max_bytes, clock(), &replay)?;
        // The replayed upload itself is honest and stored once.
        let first = reqwest::Client::new()
            .put(format!(
                "{}/v1/artifacts/{}",
                gateway.url(),
                hex::encode(replay.digest)
            ))
            .headers(header_map(&replay.headers)?)
            .body(replay.body.clone())
            .send()
            .await?
            .error_for_status()?;
        anyhow::ensure!(
            first.status().is_success(),
            "the replayed upload was refused"
        );
        let honest = bodies(3);
        let lookups_before = registry.lookups();
        let stop = Arc::new(AtomicBool::new(false));
        let url = gateway.url();
        // The flood runs on its own thread and runtime, as another process would, so that its
        // tasks do not queue ahead of the gateway's and the honest client's in this runtime.
        let flooding = {
            let (stop, concurrency) = (stop.clone(), a.flood_concurrency);
            tokio::task::spawn_blocking(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(flood::run(&url, &requests, concurrency, &stop))
            })
        };
        let uploading = async {
            let started = Instant::now();
            let done = futures::stream::iter(honest.iter())
                .map(|body| client.upload(&hotkey, body.clone()))
                .buffer_unordered(a.concurrency)
                .try_collect::<Vec<_>>()
                .await;
            stop.store(true, Ordering::Relaxed);
            done.map(|_| started.elapsed())
        };
        let flood_started = Instant::now();
        let (outcome, took) = tokio::join!(flooding, uploading);
        let flood_secs = flood_started.elapsed().as_secs_f64();
        let (outcome, took) = (outcome??, took?);
        let up_flooded = mbps(total, took);
        let lookups = registry.lookups() - lookups_before;
        f.put("flood_requests", outcome.sent);
        f.put("flood_seconds", round3(flood_secs));
        for (status, count) in &outcome.answers {
            f.put(format!("flood_answered_{status}"), *count);
        }
        f.put("upload_flooded_mbps", round1(up_flooded));
        f.put(
            "upload_flooded_of_unflooded",
            round3(up_flooded / up_gateway),
        );
        f.put("flood_chain_lookups", lookups);
        f.put(
            "flood_chain_lookups_per_request",
            (lookups as f64 / outcome.sent.max(1) as f64 * 1e5).round() / 1e5,
        );
    }
    gateway.stop().await?;
    f.print(a.json);
    Ok(())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// A small honest upload, signed now by `hotkey`.
fn replayable(hotkey: &Keypair, clock: &Clock) -> Result<Replayable> {
    let body = Bytes::from_static(b"an honest upload the flood replays");
    let digest = *blake3::hash(&body).as_bytes();
    let claim = UploadClaim {
        netuid: 1,
        digest,
        length: body.len() as u64,
        timestamp_ms: clock(),
    };
    Ok(Replayable {
        digest,
        headers: claim.sign(hotkey).into(),
        body,
    })
}

fn header_map(headers: &[(&'static str, String)]) -> Result<reqwest::header::HeaderMap> {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, v.parse()?);
    }
    Ok(map)
}

async fn direct_put(store: Arc<dyn ObjectStore>, key: String, body: Bytes) -> Result<()> {
    let upload = store
        .put_multipart(&object_store::path::Path::from(key))
        .await?;
    let mut writer =
        WriteMultipart::new_with_chunk_size(upload, kiln_storage_gateway::store::PART_SIZE);
    for chunk in body.chunks(256 << 10) {
        writer
            .wait_for_capacity(kiln_storage_gateway::store::PARTS_IN_FLIGHT)
            .await?;
        writer.write(chunk);
    }
    writer.finish().await?;
    Ok(())
}
