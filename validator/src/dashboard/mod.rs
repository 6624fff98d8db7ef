//! The web dashboard, served beside the JSON API by `kiln validator` and `kiln api`: `/` (the
//! overview), `/miners/{uid}` and `/windows/{window}`. Pages are rendered on the server from
//! the API's own reads, so they read fully without script; a small embedded script refreshes
//! them in place. Nothing is loaded from elsewhere, and the content security policy says so.

pub mod chart;
mod layout;
mod miner;
mod overview;
mod window;
mod words;

use crate::api::{ApiState, query};
use crate::db::DbError;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use layout::{Banner, page};
use maud::{Markup, html};

/// How often a live page refreshes itself.
pub const REFRESH_MS: u64 = 5000;

/// The policy every page is served with: its own style sheet, script and API, nothing else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The dashboard's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(overview_page))
        .route("/miners/{uid}", get(miner_page))
        .route("/windows/{window}", get(window_page))
        .route("/assets/dashboard.css", get(css))
        .route("/assets/dashboard.js", get(js))
        .with_state(state)
}

/// Why a page could not be shown.
#[derive(Debug)]
enum PageError {
    /// A malformed path (400).
    BadPath(String),
    /// No such miner or window (404).
    NotFound(String),
    /// The database did not answer (503).
    Unavailable(DbError),
}

impl From<DbError> for PageError {
    fn from(e: DbError) -> Self {
        tracing::warn!(error = %e, "dashboard query failed");
        PageError::Unavailable(e)
    }
}

fn uid_or_window<T>(p: Result<Path<T>, PathRejection>) -> Result<T, PageError> {
    p.map(|Path(v)| v)
        .map_err(|e| PageError::BadPath(e.body_text()))
}

async fn banner(s: &ApiState) -> Result<Banner, PageError> {
    let status = query::status_row(&s.db).await?;
    Ok(Banner::new(status.map(|s| s.netuid), s.chain.clone()))
}

async fn overview_page(State(s): State<ApiState>) -> Response {
    let result = async {
        let o = overview::load(&s).await?;
        let banner = Banner::new(o.status.as_ref().map(|st| st.netuid), s.chain.clone());
        Ok(page(
            "overview",
            &banner,
            Some(REFRESH_MS),
            overview::render(&o),
        ))
    };
    respond(&s, result.await).await
}

async fn miner_page(State(s): State<ApiState>, uid: Result<Path<u16>, PathRejection>) -> Response {
    let result = async {
        let uid = uid_or_window(uid)?;
        let m = miner::load(&s.db, uid)
            .await?
            .ok_or_else(|| PageError::NotFound(format!("Miner {uid} was never scored.")))?;
        let title = format!("miner {uid}");
        Ok(page(
            &title,
            &banner(&s).await?,
            Some(REFRESH_MS),
            miner::render(&m),
        ))
    };
    respond(&s, result.await).await
}

async fn window_page(State(s): State<ApiState>, w: Result<Path<u64>, PathRejection>) -> Response {
    let result = async {
        let w = uid_or_window(w)?;
        let d = query::window_detail(&s.db, w)
            .await?
            .ok_or_else(|| PageError::NotFound(format!("Window {w} was not scored.")))?;
        let refresh = window::is_settling(&d).then_some(REFRESH_MS);
        let title = format!("window {w}");
        Ok(page(
            &title,
            &banner(&s).await?,
            refresh,
            window::render(&d),
        ))
    };
    respond(&s, result.await).await
}

/// The page, or an error page with the right status.
async fn respond(s: &ApiState, result: Result<Markup, PageError>) -> Response {
    let (code, what, message) = match result {
        Ok(markup) => return html_response(StatusCode::OK, markup),
        Err(PageError::BadPath(m)) => (StatusCode::BAD_REQUEST, "Bad address", m),
        Err(PageError::NotFound(m)) => (StatusCode::NOT_FOUND, "Not found", m),
        Err(PageError::Unavailable(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Database unavailable",
            format!("The validator's database did not answer: {e}. This page retries by itself."),
        ),
    };
    // The banner would need the database; an error page goes without the subnet's number.
    let banner = Banner::new(None, s.chain.clone());
    let retry = (code == StatusCode::SERVICE_UNAVAILABLE).then_some(REFRESH_MS);
    let body =
        html! { h1 { (what) } p.note { (message) } p { a href="/" { "Back to the overview" } } };
    html_response(code, page(what, &banner, retry, body))
}

fn html_response(code: StatusCode, markup: Markup) -> Response {
    (
        code,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// An embedded asset; its address carries its hash, so it may be kept for a year.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", layout::CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", layout::JS)
}
