//! Flags of the HTTP port `kiln validator` and `kiln api` serve, and serving it.

use anyhow::{Context, Result};
use clap::Args;
use kiln_validator::http::{self, HttpOptions, HttpState};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// CORS and the request time limit.
#[derive(Debug, Clone, Args)]
pub(crate) struct HttpArgs {
    /// Let browsers on this origin read the API (repeat, or comma-separated; `*`: any).
    #[arg(long, env = "KILN_CORS_ORIGINS", value_delimiter = ',')]
    cors_origin: Vec<String>,
    /// Longest a request may take, in seconds, before a JSON 503.
    #[arg(long, env = "KILN_HTTP_TIMEOUT_SECS", default_value_t = 10)]
    http_timeout_secs: u64,
}

impl HttpArgs {
    fn options(&self) -> HttpOptions {
        HttpOptions {
            cors_origins: self.cors_origin.clone(),
            timeout: Duration::from_secs(self.http_timeout_secs.max(1)),
        }
    }
}

/// A running HTTP port; [`Server::stop`] ends it gracefully.
pub(crate) struct Server {
    /// The bound address.
    pub(crate) addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds `listen` and serves the validator's router.
    pub(crate) async fn start(
        listen: SocketAddr,
        state: HttpState,
        args: &HttpArgs,
    ) -> Result<Self> {
        let app = http::router(state, &args.options())?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(http::serve(listener, app, async move {
            let _ = stopped.await;
        }));
        Ok(Server { addr, stop, task })
    }

    /// Stops accepting, finishes the requests under way.
    pub(crate) async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}
