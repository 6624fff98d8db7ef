//! The dashboard API (`/api/v1`): thin handlers over [`query`], typed responses in [`types`],
//! an OpenAPI 3.1 document generated from both at `/api/v1/openapi.json`.

pub mod query;
pub mod types;

use crate::db::{Db, DbError};
use crate::http::Health;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kiln_protocol::WindowClock;
use std::sync::Arc;
use types::*;
use utoipa::OpenApi;

/// What the API handlers read.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The validator's database.
    pub db: Db,
    /// Live progress when served by the validator (a fresh one otherwise).
    pub health: Arc<Health>,
    /// The chain, as configured, for `/status`.
    pub chain: Option<String>,
    /// The run's window clock, for `/status`'s current window.
    pub clock: Option<WindowClock>,
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "kiln validator API",
        description = "Every window a kiln validator scored: submissions, Gauntlet evaluations, \
                       penalties and why, weights sent, manifests, miners over time."
    ),
    paths(
        status, windows, window, model_loss, miners, miner, history, weights, metagraph
    )
)]
pub struct ApiDoc;

/// The `/api/v1` routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/status", get(status))
        .route("/api/v1/windows", get(windows))
        .route("/api/v1/windows/{window}", get(window))
        .route("/api/v1/model/loss", get(model_loss))
        .route("/api/v1/miners", get(miners))
        .route("/api/v1/miners/{uid}", get(miner))
        .route("/api/v1/miners/{uid}/history", get(history))
        .route("/api/v1/weights", get(weights))
        .route("/api/v1/metagraph", get(metagraph))
        .with_state(state)
}

/// A failed request, as JSON.
#[derive(Debug)]
pub enum ApiError {
    /// A parameter is malformed or out of range (400).
    BadParameter(String),
    /// No such window or miner (404).
    NotFound(String),
    /// The database did not answer (503).
    Unavailable(String),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::warn!(error = %e, "api query failed");
        ApiError::Unavailable(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, error, message) = match self {
            ApiError::BadParameter(m) => (StatusCode::BAD_REQUEST, "bad_parameter", m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
        };
        error_response(code, error, message)
    }
}

/// A JSON error response.
pub fn error_response(code: StatusCode, error: &str, message: String) -> Response {
    let body = ErrorBody {
        error: error.to_owned(),
        message,
    };
    (code, Json(body)).into_response()
}

fn page(q: Result<Query<PageQuery>, QueryRejection>) -> Result<PageQuery, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadParameter(e.body_text()))?;
    if let Some(n) = q.limit
        && !(1..=MAX_LIMIT).contains(&n)
    {
        return Err(ApiError::BadParameter(format!(
            "limit must be 1 to {MAX_LIMIT}, not {n}"
        )));
    }
    Ok(q)
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(v)| v)
        .map_err(|e| ApiError::BadParameter(e.body_text()))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The validator and its progress.
#[utoipa::path(get, path = "/api/v1/status", responses(
    (status = 200, body = Status),
    (status = 503, body = ErrorBody, description = "database unreachable or not claimed yet"),
))]
async fn status(State(s): State<ApiState>) -> Result<Json<Status>, ApiError> {
    live_status(&s)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::Unavailable("no validator has claimed this database".into()))
}

/// The stored status with the live block and window; `None` before the database is claimed.
pub async fn live_status(s: &ApiState) -> Result<Option<Status>, DbError> {
    let Some(mut st) = query::status_row(&s.db).await? else {
        return Ok(None);
    };
    st.chain = s.chain.clone();
    if let Some((block, _)) = s.health.last_block() {
        st.current_block = Some(block);
    }
    st.current_window = st.current_block.zip(s.clock).map(|(b, c)| c.window_of(b));
    Ok(Some(st))
}

/// Scored windows, newest first.
#[utoipa::path(get, path = "/api/v1/windows", params(PageQuery), responses(
    (status = 200, body = WindowPage),
    (status = 400, body = ErrorBody),
))]
async fn windows(
    State(s): State<ApiState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<WindowPage>, ApiError> {
    Ok(Json(query::windows(&s.db, &page(q)?).await?))
}

/// The model's loss on the run's held-out rows per scored window, newest first: the curve of
/// the model the subnet trains.
#[utoipa::path(get, path = "/api/v1/model/loss", params(PageQuery), responses(
    (status = 200, body = ModelLossPage),
    (status = 400, body = ErrorBody),
))]
async fn model_loss(
    State(s): State<ApiState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<ModelLossPage>, ApiError> {
    Ok(Json(query::model_loss(&s.db, &page(q)?).await?))
}

/// Everything recorded for one window. Immutable once scored (but for its weights' status):
/// served with an `ETag`, and `304` on `If-None-Match`.
#[utoipa::path(get, path = "/api/v1/windows/{window}",
    params(("window" = u64, Path, description = "The window number")),
    responses(
        (status = 200, body = WindowDetail),
        (status = 304, description = "unchanged since the ETag sent"),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn window(
    State(s): State<ApiState>,
    w: Result<Path<u64>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let w = path(w)?;
    let detail = query::window_detail(&s.db, w)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("window {w} was not scored")))?;
    Ok(with_etag(&headers, &detail))
}

/// Serializes `body` with a strong `ETag` (its blake3), or answers `304 Not Modified`.
fn with_etag(headers: &HeaderMap, body: &impl serde::Serialize) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return ApiError::Unavailable(e.to_string()).into_response(),
    };
    let tag = format!("\"{}\"", &blake3::hash(&bytes).to_hex()[..32]);
    let value = HeaderValue::from_str(&tag).expect("hex is a valid header value");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, value), cache]).into_response();
    }
    (
        [
            (header::ETAG, value),
            cache,
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Every miner of the latest scored window: standing, weight sent, incentive on chain.
#[utoipa::path(get, path = "/api/v1/miners", responses(
    (status = 200, body = MinerList),
    (status = 503, body = ErrorBody),
))]
async fn miners(State(s): State<ApiState>) -> Result<Json<MinerList>, ApiError> {
    Ok(Json(query::miners(&s.db).await?))
}

/// One miner.
#[utoipa::path(get, path = "/api/v1/miners/{uid}",
    params(("uid" = u16, Path, description = "The miner's uid")),
    responses(
        (status = 200, body = MinerDetail),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn miner(
    State(s): State<ApiState>,
    uid: Result<Path<u16>, PathRejection>,
) -> Result<Json<MinerDetail>, ApiError> {
    let uid = path(uid)?;
    query::miner(&s.db, uid)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("uid {uid} is not in the latest window")))
}

/// One miner's standing window by window, newest first.
#[utoipa::path(get, path = "/api/v1/miners/{uid}/history",
    params(("uid" = u16, Path, description = "The miner's uid"), PageQuery),
    responses(
        (status = 200, body = HistoryPage),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn history(
    State(s): State<ApiState>,
    uid: Result<Path<u16>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<HistoryPage>, ApiError> {
    let uid = path(uid)?;
    let q = page(q)?;
    query::history(&s.db, uid, &q)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("uid {uid} was never scored")))
}

/// Weight vectors sent, newest first.
#[utoipa::path(get, path = "/api/v1/weights", params(PageQuery), responses(
    (status = 200, body = WeightPage),
    (status = 400, body = ErrorBody),
))]
async fn weights(
    State(s): State<ApiState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<WeightPage>, ApiError> {
    Ok(Json(query::weights(&s.db, &page(q)?).await?))
}

/// The subnet's neurons as the validator last read them.
#[utoipa::path(get, path = "/api/v1/metagraph", responses(
    (status = 200, body = Metagraph),
    (status = 503, body = ErrorBody),
))]
async fn metagraph(State(s): State<ApiState>) -> Result<Json<Metagraph>, ApiError> {
    Ok(Json(query::metagraph(&s.db).await?))
}
