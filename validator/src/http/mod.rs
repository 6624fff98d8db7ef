//! The validator's HTTP port: the web dashboard (`/`, see [`crate::dashboard`]), the dashboard
//! API (`/api/v1`, see [`crate::api`]), `/metrics`,
//! `/healthz` (the node is alive and following the chain) and `/readyz` (its database answers),
//! with gzip, CORS, a per-request time limit and request metrics. The router is built by
//! [`router`] and tested with `oneshot`.

use crate::api::{self, ApiState, error_response};
use crate::db::Db;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
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
    block_interval_ms: AtomicU64,
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
        self.block_at(number, now_ms());
    }

    /// A block arrived at `at_ms` (Unix milliseconds). Blocks newer than the last one also
    /// update the block interval: a moving average (weight 1/4) of the time per block.
    pub fn block_at(&self, number: u64, at_ms: u64) {
        let prev = self.last_block.swap(number, Ordering::Relaxed);
        let prev_at = self.last_block_at_ms.swap(at_ms, Ordering::Relaxed);
        if prev_at == 0 || number <= prev {
            return;
        }
        let sample = at_ms.saturating_sub(prev_at) / (number - prev);
        let old = self.block_interval_ms.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            (3 * old + sample) / 4
        };
        self.block_interval_ms.store(new, Ordering::Relaxed);
    }

    /// The time between blocks as observed (`None` before the second block).
    pub fn block_interval(&self) -> Option<Duration> {
        match self.block_interval_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
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
    /// The chain, as configured, for `/api/v1/status`.
    pub chain: Option<String>,
    /// The run's window clock, for `/api/v1/status`.
    pub clock: Option<kiln_protocol::WindowClock>,
}

/// Cross-cutting settings of the HTTP port.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Origins allowed to read the API from a browser (`*`: any); empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Longest a request may take before a JSON `503 timeout`.
    pub timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            cors_origins: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why the HTTP options are unusable.
#[derive(Debug, thiserror::Error)]
#[error("CORS origin {0:?} is not a valid header value")]
pub struct BadOrigin(String);

/// The validator's router: dashboard, API, probes and metrics.
pub fn router(state: HttpState, options: &HttpOptions) -> Result<Router, BadOrigin> {
    describe_metrics();
    let api_state = ApiState {
        db: state.db.clone(),
        health: state.health.clone(),
        chain: state.chain.clone(),
        clock: state.clock,
    };
    let dashboard = crate::dashboard::router(api_state.clone());
    let api = api::router(api_state);
    let limit = options.timeout;
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(state)
        .merge(api)
        .merge(dashboard)
        .layer(middleware::from_fn(move |req, next| {
            time_limit(limit, req, next)
        }))
        .layer(middleware::from_fn(record))
        .layer(tower_http::compression::CompressionLayer::new());
    if !options.cors_origins.is_empty() {
        app = app.layer(cors(&options.cors_origins)?);
    }
    Ok(app)
}

fn cors(origins: &[String]) -> Result<tower_http::cors::CorsLayer, BadOrigin> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|_| BadOrigin(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(values)
    };
    Ok(CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([header::IF_NONE_MATCH])
        .expose_headers([header::ETAG]))
}

/// Answers a JSON `503 timeout` when the handler takes longer than `limit`.
async fn time_limit(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("the request took longer than {} ms", limit.as_millis()),
        ),
    }
}

/// Help for the metrics [`record`] keeps.
fn describe_metrics() {
    metrics::describe_counter!(
        "kiln_api_requests_total",
        "HTTP requests by `route` and `status`."
    );
    metrics::describe_histogram!(
        "kiln_api_request_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by `route`."
    );
}

/// Counts requests by route and status, and their latency.
async fn record(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("kiln_api_requests_total", "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("kiln_api_request_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_interval_follows_the_blocks_seen() {
        let h = Health::default();
        h.block_at(100, 10_000);
        assert_eq!(h.block_interval(), None);
        // Two blocks in 24 s: 12 s each.
        h.block_at(102, 34_000);
        assert_eq!(h.block_interval(), Some(Duration::from_secs(12)));
        // A block repeated or older (a reorg, a reconnect) does not count.
        h.block_at(102, 90_000);
        assert_eq!(h.block_interval(), Some(Duration::from_secs(12)));
        // One 4 s block moves the average a quarter of the way: (3 × 12 + 4) / 4 = 10.
        h.block_at(103, 94_000);
        assert_eq!(h.block_interval(), Some(Duration::from_secs(10)));
        assert_eq!(h.last_block().map(|(b, _)| b), Some(103));
    }
}
