//! `kiln gateway`: the storage gateway (serve) and its retention pass (gc).

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use kiln_runtime_client::{Client, ClientOptions, Network};
use kiln_storage_gateway::http::system_clock;
use kiln_storage_gateway::{
    AppState, ArtifactStore, CachedRegistry, ChainSource, Gateway, GatewayConfig, StoreConfig, gc,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `kiln gateway …`
#[derive(Debug, Subcommand)]
pub(crate) enum GatewayCmd {
    /// Serve signed uploads and content-addressed downloads.
    Serve(ServeArgs),
    /// Delete artifacts no recent commitment references.
    Gc(GcArgs),
}

/// Settings shared by `serve` and `gc`: a config file, overridden by flags and environment.
#[derive(Debug, Args)]
pub(crate) struct Settings {
    /// A TOML configuration file (see docs/storage-gateway.md).
    #[arg(long, env = "KILN_GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    /// `finney`, `test`, `local` or a ws(s):// URL.
    #[arg(long, env = "KILN_CHAIN")]
    chain: Option<String>,
    /// The subnet.
    #[arg(long, env = "KILN_NETUID")]
    netuid: Option<u16>,
    /// `local` or `s3`.
    #[arg(long, env = "KILN_GATEWAY_STORE")]
    store: Option<String>,
    /// Folder of the local store.
    #[arg(long, env = "KILN_GATEWAY_DIR")]
    dir: Option<PathBuf>,
    /// S3 bucket.
    #[arg(long, env = "KILN_S3_BUCKET")]
    s3_bucket: Option<String>,
    #[command(flatten)]
    s3: super::s3::S3Args,
}

impl Settings {
    /// The configuration: file (or defaults), then flags and environment.
    pub(crate) fn resolve(&self) -> Result<GatewayConfig> {
        let mut c = match &self.config {
            Some(path) => GatewayConfig::from_file(path)?,
            None => GatewayConfig::default(),
        };
        if let Some(chain) = &self.chain {
            c.chain = chain.clone();
        }
        if let Some(netuid) = self.netuid {
            c.netuid = netuid;
        }
        match self.store.as_deref() {
            None => {}
            Some("local") => {
                c.store = StoreConfig::Local {
                    dir: self.dir.clone().unwrap_or_else(|| match &c.store {
                        StoreConfig::Local { dir } => dir.clone(),
                        StoreConfig::S3 { .. } => PathBuf::from("kiln-data/gateway"),
                    }),
                }
            }
            Some("s3") => {
                let bucket = self
                    .s3_bucket
                    .clone()
                    .context("--store s3 needs --s3-bucket")?;
                c.store = self.s3.store(bucket);
            }
            Some(other) => bail!("unknown store `{other}`: expected local or s3"),
        }
        if let (None, Some(dir), StoreConfig::Local { .. }) = (&self.store, &self.dir, &c.store) {
            c.store = StoreConfig::Local { dir: dir.clone() };
        }
        Ok(c)
    }
}

/// Arguments of `kiln gateway serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    settings: Settings,
    /// API address.
    #[arg(long, env = "KILN_GATEWAY_LISTEN")]
    listen: Option<SocketAddr>,
    /// Serve /metrics on this address instead of the API's.
    #[arg(long, env = "KILN_GATEWAY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Largest artifact accepted, in bytes.
    #[arg(long, env = "KILN_MAX_ARTIFACT_BYTES")]
    max_artifact_bytes: Option<u64>,
    /// Uploads per minute a hotkey regains.
    #[arg(long, env = "KILN_GATEWAY_UPLOADS_PER_MINUTE")]
    uploads_per_minute: Option<u32>,
}

/// Arguments of `kiln gateway gc`.
#[derive(Debug, Args)]
pub(crate) struct GcArgs {
    #[command(flatten)]
    settings: Settings,
    /// Keep artifacts committed for this many windows back from the current one.
    #[arg(long, env = "KILN_GC_KEEP_WINDOWS")]
    keep_windows: u64,
    /// Hparams preset whose window clock applies (or `--hparams FILE`).
    #[arg(long, env = "KILN_PRESET", default_value = "72b")]
    preset: String,
    /// Hparams file whose window clock applies.
    #[arg(long, env = "KILN_HPARAMS")]
    hparams: Option<PathBuf>,
    /// Never delete artifacts younger than this many seconds (they may not be committed yet).
    #[arg(long, default_value_t = 3600)]
    min_age_secs: u64,
    /// Report what would be deleted without deleting.
    #[arg(long)]
    dry_run: bool,
}

impl GatewayCmd {
    /// `--check-config FILE`: the settings file `FILE`, with the flags and environment over it.
    pub(crate) fn check(self, path: &std::path::Path) -> Result<()> {
        let mut settings = match self {
            Self::Serve(a) => a.settings,
            Self::Gc(a) => a.settings,
        };
        settings.config = Some(path.to_path_buf());
        settings.resolve()?.chain.parse::<Network>()?;
        Ok(())
    }

    pub(crate) fn run(self) -> Result<()> {
        super::block_on(async {
            match self {
                GatewayCmd::Serve(a) => serve(a).await,
                GatewayCmd::Gc(a) => run_gc(a).await,
            }
        })
    }
}

async fn connect(config: &GatewayConfig) -> Result<Client> {
    let network: Network = config.chain.parse()?;
    Ok(Client::connect(network, ClientOptions::default()).await?)
}

async fn serve(a: ServeArgs) -> Result<()> {
    let mut config = a.settings.resolve()?;
    if let Some(l) = a.listen {
        config.listen = l;
    }
    if a.metrics_listen.is_some() {
        config.metrics_listen = a.metrics_listen;
    }
    if let Some(m) = a.max_artifact_bytes {
        config.max_artifact_bytes = m;
    }
    if let Some(p) = a.uploads_per_minute {
        config.uploads_per_minute = p;
    }
    let store = ArtifactStore::new(config.store.open()?, &config.prefix);
    let chain = connect(&config).await?;
    let registry = CachedRegistry::start_with(
        ChainSource::new(chain, config.netuid),
        config.registry_options(),
    )
    .await;
    let prometheus = kiln_storage_gateway::server::prometheus();
    let state = AppState::new(
        store,
        Arc::new(registry),
        config.limits(),
        system_clock(),
        config.metrics_listen.is_none().then_some(prometheus),
    );
    let gateway = Gateway::start(state, config.listen, config.metrics_listen).await?;
    println!("kiln gateway listening on {}", gateway.url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for ctrl-c")?;
    gateway.stop().await?;
    Ok(())
}

async fn run_gc(a: GcArgs) -> Result<()> {
    let config = a.settings.resolve()?;
    let hparams = match &a.hparams {
        Some(path) => super::hparams::load(path)?,
        None => kiln_protocol::hparams::Hparams::preset(&a.preset)
            .with_context(|| format!("unknown preset {:?}", a.preset))?,
    };
    let clock = hparams.window_clock()?;
    let store = ArtifactStore::new(config.store.open()?, &config.prefix);
    let chain = connect(&config).await?;
    let referenced = gc::referenced(&chain, config.netuid, &clock, a.keep_windows).await?;
    let report = gc::collect(
        &store,
        &referenced,
        Duration::from_secs(a.min_age_secs),
        a.dry_run,
    )
    .await?;
    println!("scanned    {}", report.scanned);
    println!("referenced {}", report.referenced);
    println!("young      {}", report.young);
    println!(
        "{} {}",
        if a.dry_run {
            "would delete"
        } else {
            "deleted   "
        },
        report.deleted.len()
    );
    Ok(())
}
