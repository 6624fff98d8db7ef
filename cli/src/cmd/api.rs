//! `kiln api`: the validator's dashboard API on its own, against the validator's database (or a
//! read replica of it).

use super::http::{HttpArgs, Server};
use super::node::HparamsArgs;
use anyhow::{Context, Result, bail};
use clap::Args;
use kiln_storage_gateway::server::prometheus;
use kiln_validator::db::Db;
use kiln_validator::http::{Health, HttpState};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `kiln api`.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// Postgres URL of the validator's database (a read replica will do).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Serve on this address (port 0: any free port).
    #[arg(long, env = "KILN_API_LISTEN", default_value = "127.0.0.1:8782")]
    listen: SocketAddr,
    /// The chain the validator follows, shown by `/api/v1/status`.
    #[arg(long, env = "KILN_CHAIN")]
    chain: Option<String>,
    /// The run parameters the validator runs with (for window numbers).
    #[command(flatten)]
    run: HparamsArgs,
    #[command(flatten)]
    http: HttpArgs,
}

impl ApiArgs {
    pub(crate) fn run(self) -> Result<()> {
        super::block_on(self.serve())
    }

    /// `--check-config`: the run's parameters load and make a window clock.
    pub(crate) fn check(&self) -> Result<()> {
        self.run.load()?.window_clock()?;
        Ok(())
    }

    async fn serve(self) -> Result<()> {
        let hparams = self.run.load()?;
        let db = Db::connect(&self.database_url)
            .await
            .context("connecting to Postgres")?;
        if let Some(state) = db.state().await?
            && state.hparams_hash != hparams.hparams_hash()
        {
            bail!(
                "the database belongs to a run with other hparams; pass that run's --preset or \
                 --hparams"
            );
        }
        let state = HttpState {
            db,
            health: Arc::new(Health::default()),
            stale_after: Duration::MAX,
            prometheus: prometheus(),
            chain: self.chain.clone(),
            clock: Some(hparams.window_clock()?),
        };
        let server = Server::start(self.listen, state, &self.http).await?;
        println!(
            "kiln api: dashboard http://{0}/ · JSON http://{0}/api/v1/status",
            server.addr
        );
        super::miner::shutdown_signal().await;
        server.stop().await
    }
}
