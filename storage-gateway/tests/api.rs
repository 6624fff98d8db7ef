//! The HTTP API over both backends (local filesystem and a real S3 server), driven through the
//! router with `oneshot`: round trip, ranges, idempotent re-upload, and each rejection class.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kiln_storage_gateway::auth::UploadClaim;
use kiln_storage_gateway::http::{Limits, system_clock};
use kiln_storage_gateway::{AppState, ArtifactStore, StaticRegistry, StoreConfig, router};
use std::sync::Arc;
use subxt_signer::sr25519::{Keypair, dev};
use tower::ServiceExt;

const NETUID: u16 = 1;

fn now_ms() -> u64 {
    (system_clock())()
}

fn app(store: ArtifactStore, burst: u32) -> axum::Router {
    let registry = StaticRegistry::new([
        dev::bob().public_key().to_account_id(),
        dev::dave().public_key().to_account_id(),
    ]);
    let limits = Limits {
        netuid: NETUID,
        max_bytes: 1 << 20,
        timestamp_window_ms: 60_000,
        burst,
        per_minute: 1,
        ..Limits::default()
    };
    router(AppState::new(
        store,
        Arc::new(registry),
        limits,
        system_clock(),
        None,
    ))
}

fn put(
    body: &[u8],
    digest: [u8; 32],
    signer: Option<&Keypair>,
    ts: u64,
    length: u64,
) -> Request<Body> {
    let mut req = Request::builder()
        .method("PUT")
        .uri(format!("/v1/artifacts/{}", hex::encode(digest)))
        .header("content-length", length.to_string());
    if let Some(signer) = signer {
        let claim = UploadClaim {
            netuid: NETUID,
            digest,
            length,
            timestamp_ms: ts,
        };
        for (k, v) in claim.sign(signer) {
            req = req.header(k, v);
        }
    }
    req.body(Body::from(body.to_vec())).unwrap()
}

fn signed(body: &[u8], signer: &Keypair) -> Request<Body> {
    put(
        body,
        *blake3::hash(body).as_bytes(),
        Some(signer),
        now_ms(),
        body.len() as u64,
    )
}

async fn send(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, body.to_vec())
}

async fn error_code(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let (status, _, body) = send(app, req).await;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    (
        status,
        json["error"].as_str().unwrap_or_default().to_owned(),
    )
}

fn get(digest: &[u8; 32], range: Option<&str>) -> Request<Body> {
    let mut req = Request::builder().uri(format!("/v1/artifacts/{}", hex::encode(digest)));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.body(Body::empty()).unwrap()
}

/// The whole API contract against one backend; `keys` lists what is in the backend.
async fn contract<F, Fut>(store: ArtifactStore, keys: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let app = app(store, 3);
    let body: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let digest = *blake3::hash(&body).as_bytes();

    // Round trip.
    let (status, headers, _) = send(&app, signed(&body, &dev::bob())).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers["etag"], format!("\"{}\"", hex::encode(digest)));
    let (status, headers, got) = send(&app, get(&digest, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, body);
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let head = Request::builder()
        .method("HEAD")
        .uri(format!("/v1/artifacts/{}", hex::encode(digest)));
    let (status, headers, got) = send(&app, head.body(Body::empty()).unwrap()).await;
    assert_eq!((status, got.len()), (StatusCode::OK, 0));
    assert_eq!(headers["content-length"], body.len().to_string());
    let inm = Request::builder()
        .uri(format!("/v1/artifacts/{}", hex::encode(digest)))
        .header("if-none-match", format!("\"{}\"", hex::encode(digest)));
    assert_eq!(
        send(&app, inm.body(Body::empty()).unwrap()).await.0,
        StatusCode::NOT_MODIFIED
    );

    // Ranges.
    let (status, headers, got) = send(&app, get(&digest, Some("bytes=10-19"))).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got, &body[10..20]);
    assert_eq!(
        headers["content-range"],
        format!("bytes 10-19/{}", body.len())
    );
    let (_, _, got) = send(&app, get(&digest, Some("bytes=-5"))).await;
    assert_eq!(got, &body[body.len() - 5..]);
    let (status, _) = error_code(&app, get(&digest, Some("bytes=999999-"))).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        error_code(&app, get(&[9; 32], None)).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );

    // Idempotent: the same content again is accepted and not rewritten.
    let before = keys().await;
    let (status, _, _) = send(&app, signed(&body, &dev::dave())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys().await, before);

    // Rejections, each with its own status and code.
    let other = b"another artifact".to_vec();
    let d = *blake3::hash(&other).as_bytes();
    let len = other.len() as u64;
    let bob = dev::bob();
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            put(&other, d, None, now_ms(), len),
            StatusCode::UNAUTHORIZED,
            "missing_signature",
        ),
        // Signed by Alice, but claiming to be Bob.
        (
            {
                let mut r = put(&other, d, Some(&dev::alice()), now_ms(), len);
                r.headers_mut().insert(
                    "x-kiln-hotkey",
                    bob.public_key()
                        .to_account_id()
                        .to_string()
                        .parse()
                        .unwrap(),
                );
                r
            },
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
        (
            put(&other, d, Some(&bob), now_ms() - 600_000, len),
            StatusCode::UNAUTHORIZED,
            "stale_timestamp",
        ),
        (
            put(&other, d, Some(&dev::charlie()), now_ms(), len),
            StatusCode::FORBIDDEN,
            "unregistered",
        ),
        (
            put(
                &vec![0; 2 << 20],
                *blake3::hash(&vec![0; 2 << 20]).as_bytes(),
                Some(&bob),
                now_ms(),
                2 << 20,
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            Request::builder()
                .method("PUT")
                .uri("/v1/artifacts/xyz")
                .body(Body::empty())
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "bad_digest",
        ),
    ];
    for (req, status, code) in cases {
        assert_eq!(
            error_code(&app, req).await,
            (status, code.to_owned()),
            "{code}"
        );
    }
    // A body that does not hash to its key leaves nothing behind.
    let forged = b"not the signed bytes!".to_vec();
    let req = put(&forged, d, Some(&bob), now_ms(), forged.len() as u64);
    // (Re-signed over the real length so only the digest differs.)
    assert_eq!(
        error_code(&app, req).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "digest_mismatch".into())
    );
    assert_eq!(
        keys().await,
        before,
        "a rejected upload left something in the store"
    );
    assert_eq!(
        error_code(&app, get(&d, None)).await.0,
        StatusCode::NOT_FOUND
    );
    // A replayed request (same signature) is refused.
    let fresh = b"replay me".to_vec();
    let fd = *blake3::hash(&fresh).as_bytes();
    let ts = now_ms();
    let first = put(&fresh, fd, Some(&dev::dave()), ts, fresh.len() as u64);
    // The same bytes on the wire (sr25519 signatures are randomized: re-signing is not a replay).
    let mut again = put(&fresh, fd, None, ts, fresh.len() as u64);
    *again.headers_mut() = first.headers().clone();
    assert_eq!(send(&app, first).await.0, StatusCode::CREATED);
    assert_eq!(
        error_code(&app, again).await,
        (StatusCode::UNAUTHORIZED, "replayed".into())
    );
    // Rate limit: Bob has used his burst of 3 (two above + this one); the next is refused.
    assert_eq!(
        send(&app, signed(b"third", &bob)).await.0,
        StatusCode::CREATED
    );
    let (status, headers, _) = send(&app, signed(b"fourth", &bob)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_filesystem_backend() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::Local {
        dir: dir.path().to_owned(),
    };
    let raw = config.open().unwrap();
    let store = ArtifactStore::new(raw.clone(), "artifacts");
    contract(store, || common::list_keys(raw.clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_backend() {
    let Some(weed) = common::weed().await else {
        return;
    };
    let raw = weed.store_config().open().unwrap();
    contract(common::store(&weed), || common::list_keys(raw.clone())).await;
}

/// `req` as if it arrived over a connection from `peer`.
fn from(peer: &str, mut req: Request<Body>) -> Request<Body> {
    let addr: std::net::SocketAddr = peer.parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_whose_uploads_keep_being_refused_is_throttled_but_never_registered_hotkeys() {
    let dir = tempfile::tempdir().unwrap();
    let raw = StoreConfig::Local {
        dir: dir.path().to_owned(),
    }
    .open()
    .unwrap();
    let limits = Limits {
        netuid: NETUID,
        max_bytes: 1 << 20,
        timestamp_window_ms: 60_000,
        burst: 64,
        per_minute: 600,
        peer_refusals_burst: 4,
        peer_refusals_per_minute: 0,
    };
    let registry = StaticRegistry::new([dev::bob().public_key().to_account_id()]);
    let app = router(AppState::new(
        ArtifactStore::new(raw, "artifacts"),
        Arc::new(registry),
        limits,
        system_clock(),
        None,
    ));
    let flooder = "10.0.0.1:5000";
    for i in 0..4u8 {
        let req = from(flooder, signed(&[i; 10], &dev::charlie()));
        assert_eq!(
            error_code(&app, req).await,
            (StatusCode::FORBIDDEN, "unregistered".into())
        );
    }
    // Its next unknown hotkey is refused before the registry is asked.
    let (status, headers, body) = send(&app, from(flooder, signed(b"x", &dev::eve()))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body:?}");
    assert!(String::from_utf8_lossy(&body).contains("peer_throttled"));
    assert!(headers.contains_key("retry-after"));
    // Another port on the same address is the same peer; another address is not.
    let req = from("10.0.0.1:6000", signed(b"y", &dev::eve()));
    assert_eq!(send(&app, req).await.0, StatusCode::TOO_MANY_REQUESTS);
    let req = from("10.0.0.2:5000", signed(b"y", &dev::eve()));
    assert_eq!(
        error_code(&app, req).await,
        (StatusCode::FORBIDDEN, "unregistered".into())
    );
    // A registered hotkey behind the throttled address (a NAT, the operator's reverse proxy)
    // is never throttled by its neighbour's refusals.
    let req = from(flooder, signed(b"valid", &dev::bob()));
    assert_eq!(send(&app, req).await.0, StatusCode::CREATED);
    // Successful uploads never count: an honest peer uploads past the refusal burst.
    for i in 0..8u8 {
        let req = from("10.0.0.3:5000", signed(&[i; 20], &dev::bob()));
        assert_eq!(send(&app, req).await.0, StatusCode::CREATED);
    }
}
