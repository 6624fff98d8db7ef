//! The HTTP API: `PUT`, `GET` and `HEAD /v1/artifacts/{blake3}`, `/healthz` and `/metrics`.
//! [`router`] builds the service; every refusal is a JSON `{"error": code, "message": text}`
//! with its own status.

use crate::auth::{self, AuthError, AuthHeaders, ReplayGuard};
use crate::metrics::GatewayMetrics;
use crate::peer::PeerKey;
use crate::ratelimit::RateLimiter;
use crate::registry::{Registration, Registry};
use crate::store::{ArtifactStore, PutError, PutOutcome};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use parking_lot::Mutex;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Upload rules.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The subnet uploaders must be registered on (part of the signed message).
    pub netuid: u16,
    /// Largest artifact accepted, in bytes.
    pub max_bytes: u64,
    /// Accepted distance between a signature's time and the gateway's clock.
    pub timestamp_window_ms: u64,
    /// Uploads a hotkey may make at once.
    pub burst: u32,
    /// Uploads per minute a hotkey regains.
    pub per_minute: u32,
    /// Refused uploads a peer address may make at once before it is throttled.
    pub peer_refusals_burst: u32,
    /// Refused uploads per minute a peer address regains.
    pub peer_refusals_per_minute: u32,
}

impl Default for Limits {
    /// The limits of the default gateway configuration.
    fn default() -> Self {
        crate::config::GatewayConfig::default().limits()
    }
}

/// Most hotkeys and peers the limiters track at once.
const TRACKED: usize = 100_000;

/// A clock in unix milliseconds (injectable for tests).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    })
}

/// Everything the handlers share.
pub struct AppState {
    store: ArtifactStore,
    registry: Arc<dyn Registry>,
    limits: Limits,
    clock: Clock,
    replay: Mutex<ReplayGuard>,
    rate: Mutex<RateLimiter<[u8; 32]>>,
    peers: Mutex<RateLimiter<PeerKey>>,
    metrics: GatewayMetrics,
    prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl AppState {
    /// Shared state for [`router`]. `prometheus` renders `/metrics` on this router when given.
    pub fn new(
        store: ArtifactStore,
        registry: Arc<dyn Registry>,
        limits: Limits,
        clock: Clock,
        prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
    ) -> Arc<Self> {
        Arc::new(AppState {
            replay: Mutex::new(ReplayGuard::new(limits.timestamp_window_ms, TRACKED)),
            rate: Mutex::new(RateLimiter::new(limits.burst, limits.per_minute, TRACKED)),
            peers: Mutex::new(RateLimiter::new(
                limits.peer_refusals_burst,
                limits.peer_refusals_per_minute,
                TRACKED,
            )),
            store,
            registry,
            limits,
            clock,
            metrics: GatewayMetrics::register(),
            prometheus,
        })
    }
}

/// An API refusal.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        self
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Whether this refusal counts against the peer that caused it: every refusal except
    /// those the gateway or its dependencies caused (the store, the chain, the shared lookup
    /// budget), a client's dropped body, and an authenticated hotkey's own rate limit.
    fn counts_against_peer(&self) -> bool {
        !matches!(
            self.code,
            "store_unavailable"
                | "registry_unavailable"
                | "registry_busy"
                | "body_error"
                | "rate_limited"
                | "peer_throttled"
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(json!({"error": self.code, "message": self.message})),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = match e {
            AuthError::Missing(_) => "missing_signature",
            AuthError::Malformed(_) => "malformed_auth",
            AuthError::BadSignature => "bad_signature",
            AuthError::Stale { .. } => "stale_timestamp",
            AuthError::Replayed => "replayed",
        };
        let status = match e {
            AuthError::Malformed(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        };
        ApiError::new(status, code, e.to_string())
    }
}

fn store_error(e: object_store::Error) -> ApiError {
    tracing::error!(error = %e, "object store failure");
    ApiError::new(StatusCode::BAD_GATEWAY, "store_unavailable", e.to_string())
}

/// The gateway's routes over `state` (with `/metrics` when the state has a Prometheus handle).
pub fn router(state: Arc<AppState>) -> Router {
    let metrics = state.prometheus.clone().map(metrics_router);
    let router = Router::new()
        .route(
            "/v1/artifacts/{digest}",
            get(download).head(download).put(upload),
        )
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        // Bodies stream to the store; the length limit is enforced while streaming.
        .layer(DefaultBodyLimit::disable())
        .with_state(state);
    match metrics {
        Some(m) => router.merge(m),
        None => router,
    }
}

/// `GET /metrics`: the Prometheus text of `handle`.
pub fn metrics_router(handle: metrics_exporter_prometheus::PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(move || async move { handle.render() }))
}

fn parse_digest(text: &str) -> Result<[u8; 32], ApiError> {
    let mut digest = [0u8; 32];
    if text.len() != 64 || hex::decode_to_slice(text, &mut digest).is_err() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_digest",
            "the path must end in a blake3 digest: 64 lowercase hex digits",
        ));
    }
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_digest",
            "digests are lowercase hex",
        ));
    }
    Ok(digest)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn upload(
    State(state): State<Arc<AppState>>,
    Path(digest_hex): Path<String>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let result = upload_inner(&state, &digest_hex, request).await;
    let outcome = match &result {
        Ok((_, PutOutcome::Stored, _)) => "stored",
        Ok((_, PutOutcome::AlreadyPresent, _)) => "exists",
        Err(e) => e.code,
    };
    state.metrics.upload(outcome, started.elapsed());
    match result {
        Ok((digest, outcome, bytes)) => {
            if outcome == PutOutcome::Stored {
                state.metrics.upload_bytes(bytes);
            }
            let (status, label) = match outcome {
                PutOutcome::Stored => (StatusCode::CREATED, "stored"),
                PutOutcome::AlreadyPresent => (StatusCode::OK, "exists"),
            };
            let mut response = (
                status,
                axum::Json(json!({"status": label, "blake3": hex::encode(digest), "bytes": bytes})),
            )
                .into_response();
            response.headers_mut().insert(header::ETAG, etag(&digest));
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn upload_inner(
    state: &AppState,
    digest_hex: &str,
    request: Request,
) -> Result<([u8; 32], PutOutcome, u64), ApiError> {
    let now = (state.clock)();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| PeerKey::of(c.0.ip()));
    let result = checked_upload(state, digest_hex, request, now, peer).await;
    if let (Some(peer), Err(e)) = (peer, &result)
        && e.counts_against_peer()
    {
        state.peers.lock().charge(peer, now);
    }
    result
}

/// The upload's checks, cheapest first: path, length and size; headers and time window; for a
/// hotkey outside the registered set, the peer's refusal limit; signature; for that hotkey, a
/// bounded chain check; replay; the hotkey's rate limit; then the body streams to the store.
/// The peer limit never applies to registered hotkeys, so strangers sharing an address with
/// miners (a NAT, the operator's reverse proxy) cannot throttle them.
async fn checked_upload(
    state: &AppState,
    digest_hex: &str,
    request: Request,
    now: u64,
    peer: Option<PeerKey>,
) -> Result<([u8; 32], PutOutcome, u64), ApiError> {
    let digest = parse_digest(digest_hex)?;
    let headers = request.headers();
    let length: u64 = header_str(headers, header::CONTENT_LENGTH.as_str())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::LENGTH_REQUIRED,
                "length_required",
                "uploads need a Content-Length (it is part of the signed message)",
            )
        })?
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_length", "bad Content-Length"))?;
    if length > state.limits.max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "{length} bytes is more than the limit of {}",
                state.limits.max_bytes
            ),
        ));
    }
    let claimed = auth::parse(
        AuthHeaders {
            hotkey: header_str(headers, auth::HOTKEY_HEADER),
            timestamp: header_str(headers, auth::TIMESTAMP_HEADER),
            signature: header_str(headers, auth::SIGNATURE_HEADER),
        },
        state.limits.netuid,
        digest,
        length,
    )?;
    claimed.check_time(now, state.limits.timestamp_window_ms)?;
    // The named hotkey is not verified yet, but a claim to a registered one skips the gate
    // (and, if forged, fails the signature check next), so no address can block miners.
    if !state.registry.known(&claimed.hotkey)
        && let Some(peer) = peer
        && let Some(wait) = state.peers.lock().wait(&peer, now)
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "peer_throttled",
            format!("too many refused uploads from {peer}; retry in {wait:?}"),
        )
        .retry_after(wait));
    }
    let verified = claimed.verify()?;
    match state.registry.status(&verified.hotkey).await {
        Registration::Registered => {}
        Registration::Unregistered => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "unregistered",
                format!(
                    "hotkey {} is not registered on netuid {}",
                    verified.hotkey, state.limits.netuid
                ),
            ));
        }
        Registration::Deferred(wait) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "registry_busy",
                format!(
                    "hotkey {} is not in the registered set and the gateway's chain checks \
                     are spent; retry in {wait:?}",
                    verified.hotkey
                ),
            )
            .retry_after(wait));
        }
        Registration::Unknown => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "registry_unavailable",
                "registrations could not be read from the chain; retry later",
            ));
        }
    }
    // After registration, so that strangers' signatures never crowd out those remembered.
    state.replay.lock().check(&verified, now)?;
    if let Err(wait) = state.rate.lock().check(verified.hotkey.0, now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many uploads from {}; retry in {wait:?}",
                verified.hotkey
            ),
        )
        .retry_after(wait));
    }
    let body = request.into_body().into_data_stream();
    let outcome = state
        .store
        .put_stream(&digest, length, body)
        .await
        .map_err(|e| match e {
            PutError::LengthMismatch { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "length_mismatch", e.to_string())
            }
            PutError::DigestMismatch { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "digest_mismatch",
                e.to_string(),
            ),
            PutError::Body(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "body_error", e.to_string())
            }
            PutError::Store(e) => store_error(e),
        })?;
    if outcome == PutOutcome::Stored {
        tracing::info!(hotkey = %verified.hotkey, digest = %hex::encode(digest), bytes = length, "artifact stored");
    }
    Ok((digest, outcome, length))
}

fn etag(digest: &[u8; 32]) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{}\"", hex::encode(digest))).expect("hex is a valid header")
}

/// Parses a single `bytes=` range against `size`: `a-b`, `a-` or `-n`.
pub fn parse_range(value: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = value.strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let range = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return None;
            }
            size.saturating_sub(n)..size
        }
        (start, "") => start.parse().ok()?..size,
        (start, end) => {
            let (s, e): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
            if e < s {
                return None;
            }
            s..e.saturating_add(1).min(size)
        }
    };
    (range.start < size && range.start < range.end).then_some(range)
}

async fn download(
    State(state): State<Arc<AppState>>,
    method: Method,
    Path(digest_hex): Path<String>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let result = download_inner(&state, &method, &digest_hex, &headers).await;
    let outcome = match &result {
        Ok(r) if r.status() == StatusCode::NOT_MODIFIED => "not_modified",
        Ok(_) => "ok",
        Err(e) => e.code,
    };
    state.metrics.download(outcome, started.elapsed());
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn download_inner(
    state: &AppState,
    method: &Method,
    digest_hex: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let digest = parse_digest(digest_hex)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no artifact with this blake3",
        )
    };
    let tag = etag(&digest);
    let mut builder = Response::builder()
        .header(header::ETAG, tag.clone())
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, "application/octet-stream");
    // The common case, a plain GET, is one request to the store; HEAD, conditional and ranged
    // requests need the size (or only the existence) first.
    let plain = method == Method::GET
        && !headers.contains_key(header::RANGE)
        && !headers.contains_key(header::IF_NONE_MATCH);
    if plain {
        let (size, stream) = state
            .store
            .get(&digest, None)
            .await
            .map_err(store_error)?
            .ok_or_else(not_found)?;
        state.metrics.download_bytes(size);
        return Ok(builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, size)
            .body(Body::from_stream(stream))
            .expect("response"));
    }
    let meta = state
        .store
        .head(&digest)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    let tag_text = tag.to_str().unwrap_or_default().to_owned();
    let cached = header_str(headers, header::IF_NONE_MATCH.as_str()).is_some_and(|inm| {
        inm.split(',')
            .any(|t| t.trim() == tag_text || t.trim() == "*")
    });
    if cached {
        return Ok(builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("response"));
    }

    let range = match header_str(headers, header::RANGE.as_str()) {
        None => None,
        Some(value) => match parse_range(value, meta.size) {
            Some(r) => Some(r),
            None => {
                let mut e = ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "bad_range",
                    format!("unsatisfiable range `{value}` for {} bytes", meta.size),
                )
                .into_response();
                e.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{}", meta.size)).expect("ascii"),
                );
                return Ok(e);
            }
        },
    };
    let (status, len) = match &range {
        Some(r) => {
            builder = builder.header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{}", r.start, r.end - 1, meta.size),
            );
            (StatusCode::PARTIAL_CONTENT, r.end - r.start)
        }
        None => (StatusCode::OK, meta.size),
    };
    builder = builder.status(status).header(header::CONTENT_LENGTH, len);
    if method == Method::HEAD {
        return Ok(builder.body(Body::empty()).expect("response"));
    }
    let (_, stream) = state
        .store
        .get(&digest, range)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    state.metrics.download_bytes(len);
    Ok(builder.body(Body::from_stream(stream)).expect("response"))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(0..10));
        assert_eq!(parse_range("bytes=90-", 100), Some(90..100));
        assert_eq!(parse_range("bytes=-10", 100), Some(90..100));
        assert_eq!(parse_range("bytes=95-200", 100), Some(95..100));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-4", 100), None);
        assert_eq!(parse_range("bytes=0-1,4-5", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=-0", 100), None);
    }
}
