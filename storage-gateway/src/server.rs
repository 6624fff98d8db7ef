//! Running the gateway: bind, serve, stop gracefully.

use crate::http::{AppState, router};
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::task::JoinHandle;

/// The process-wide Prometheus recorder (installed on first use).
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            handle
        })
        .clone()
}

/// A running gateway. Dropping it without [`Gateway::stop`] aborts the server.
#[derive(Debug)]
pub struct Gateway {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

impl Gateway {
    /// Serves `state` on `listen`, and `/metrics` on `metrics_listen` when given.
    pub async fn start(
        state: Arc<AppState>,
        listen: SocketAddr,
        metrics_listen: Option<SocketAddr>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let mut tasks = vec![spawn_server(listener, router(state), rx.clone())];
        let mut metrics_addr = None;
        if let Some(m) = metrics_listen {
            let listener = tokio::net::TcpListener::bind(m).await?;
            metrics_addr = Some(listener.local_addr()?);
            let app = crate::http::metrics_router(prometheus());
            tasks.push(spawn_server(listener, app, rx));
        }
        tracing::info!(%addr, ?metrics_addr, "gateway listening");
        Ok(Gateway {
            addr,
            metrics_addr,
            shutdown: Some(tx),
            tasks,
        })
    }

    /// The API address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The metrics address, when separate.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Stops accepting connections and waits for requests in flight to finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        for task in std::mem::take(&mut self.tasks) {
            task.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn spawn_server(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        // The peer address feeds the per-peer limit on refused uploads.
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
    })
}

/// A stand-alone `/metrics` endpoint for another kiln process (a miner, a validator) that shares
/// this crate's Prometheus recorder. Aborted on drop.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

impl MetricsServer {
    /// Serves `GET /metrics` on `listen`.
    pub async fn start(listen: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let app = crate::http::metrics_router(prometheus());
        let task = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(MetricsServer { addr, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
