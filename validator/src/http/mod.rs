//! The validator's HTTP port: `/metrics`, `/healthz` (the node is alive and following the chain)
//! and `/readyz` (its database answers). The router is built by [`router`] and tested with
//! `oneshot`.

use crate::db::Db;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the shell tells the HTTP port about its progress. Cheap to share and update.
#[derive(Debug, Default)]
pub struct Health {
    last_block: AtomicU64,
    last_block_at_ms: AtomicU64,
    last_scored: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Health {
    /// A block arrived.
    pub fn block(&self, number: u64) {
        self.last_block.store(number, Ordering::Relaxed);
        self.last_block_at_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// A window was scored.
    pub fn scored(&self, window: u64) {
        // Stored plus one so that zero means "none yet".
        self.last_scored.store(window + 1, Ordering::Relaxed);
    }

    /// The last block seen and how long ago it arrived (`None` before the first).
    pub fn last_block(&self) -> Option<(u64, Duration)> {
        let at = self.last_block_at_ms.load(Ordering::Relaxed);
        (at != 0).then(|| {
            (
                self.last_block.load(Ordering::Relaxed),
                Duration::from_millis(now_ms().saturating_sub(at)),
            )
        })
    }

    /// The last window scored by this process.
    pub fn last_scored(&self) -> Option<u64> {
        self.last_scored.load(Ordering::Relaxed).checked_sub(1)
    }
}

/// Everything the handlers read.
#[derive(Debug, Clone)]
pub struct HttpState {
    /// The validator's database.
    pub db: Db,
    /// Progress of the window loop.
    pub health: Arc<Health>,
    /// `/healthz` fails once no block has arrived for this long.
    pub stale_after: Duration,
    /// Renders `/metrics`.
    pub prometheus: metrics_exporter_prometheus::PrometheusHandle,
}

/// The validator's router.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

async fn render_metrics(State(s): State<HttpState>) -> String {
    s.prometheus.render()
}

async fn healthz(State(s): State<HttpState>) -> impl IntoResponse {
    let last = s.health.last_block();
    let stale = last.is_some_and(|(_, age)| age > s.stale_after);
    let body = json!({
        "status": if stale { "stale" } else { "ok" },
        "last_block": last.map(|(b, _)| b),
        "seconds_since_block": last.map(|(_, age)| age.as_secs_f64()),
        "last_scored_window": s.health.last_scored(),
    });
    let code = if stale {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body))
}

async fn readyz(State(s): State<HttpState>) -> impl IntoResponse {
    match s.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unready", "error": e.to_string()})),
        ),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
