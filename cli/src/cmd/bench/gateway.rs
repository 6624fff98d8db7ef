//! `kiln bench gateway`: upload and download throughput through the gateway and directly to the
//! same S3 server, over loopback.

use anyhow::Result;
use bytes::Bytes;
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use kiln_storage_gateway::http::{Limits, system_clock};
use kiln_storage_gateway::seaweed::SeaweedFs;
use kiln_storage_gateway::{
    AppState, ArtifactStore, Gateway, GatewayClient, StaticRegistry, StoreConfig,
};
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use std::sync::Arc;
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

    // Through the gateway: signed uploads (the client hashes and signs), plain GETs.
    let hotkey = kiln_runtime_client::keys::from_secret("//Bob")?;
    let registry = StaticRegistry::new([kiln_runtime_client::keys::account(&hotkey)]);
    let limits = Limits {
        netuid: 1,
        max_bytes: (size as u64).max(1 << 20),
        timestamp_window_ms: 60_000,
        burst: u32::MAX,
        per_minute: u32::MAX,
    };
    let store = ArtifactStore::new(raw.clone(), "bench/gateway");
    let state = AppState::new(store, Arc::new(registry), limits, system_clock(), None);
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
    gateway.stop().await?;

    println!("artifacts              {}", a.artifacts);
    println!("artifact_mib           {}", a.mib);
    println!("concurrency            {}", a.concurrency);
    println!("upload_direct_mbps     {up_direct:.1}");
    println!("upload_gateway_mbps    {up_gateway:.1}");
    println!("upload_ratio           {:.3}", up_gateway / up_direct);
    println!("download_direct_mbps   {down_direct:.1}");
    println!("download_gateway_mbps  {down_gateway:.1}");
    println!("download_ratio         {:.3}", down_gateway / down_direct);
    Ok(())
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
