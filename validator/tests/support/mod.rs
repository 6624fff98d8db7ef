//! The fixture the router tests share: windows written by the validator's own persistence
//! code on the real Postgres, and requests sent through the router with `oneshot`.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use kiln_protocol::{AggregationManifest, Hparams};
use kiln_storage_gateway::server::prometheus;
use kiln_validator::db::NeuronRow;
use kiln_validator::db::testing::{TestDb, synthetic_record};
use kiln_validator::http::{Health, HttpOptions, HttpState, router};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

pub(crate) const MINERS: u16 = 12;
pub(crate) const FIRST: u64 = 10;
pub(crate) const LAST: u64 = 14;

/// Windows 10..=14 of 12 miners, weights on each (the last still pending), a manifest with a
/// checkpoint on window 12, and a metagraph snapshot.
pub(crate) async fn populated() -> (TestDb, HttpState) {
    let t = TestDb::new().await.unwrap();
    let db = &t.db;
    let hparams = Hparams::tiny();
    db.claim(1, "validator-hotkey", &hparams.hparams_hash(), &[1; 32])
        .await
        .unwrap();
    for w in FIRST..=LAST {
        db.persist_window(&synthetic_record(w, MINERS))
            .await
            .unwrap();
        let weights = [(1u16, 0.6), (2, 0.4)];
        assert!(db.weights_pending(w, &weights, 0).await.unwrap());
        if w < LAST {
            db.weights_done(w, "included", Some(w * 20 + 30), Some(&[7; 32]), None)
                .await
                .unwrap();
        }
    }
    let manifest = AggregationManifest {
        netuid: 1,
        window: 12,
        hparams_hash: hparams.hparams_hash(),
        base_model_hash: [1; 32],
        result_model_hash: [2; 32],
        prev_manifest: [0; 32],
        checkpoint: [3; 32],
        peers: vec![
            kiln_protocol::aggregation::Peer {
                uid: 1,
                digest: [4; 32],
            },
            kiln_protocol::aggregation::Peer {
                uid: 2,
                digest: [5; 32],
            },
        ],
    };
    let bytes = manifest.encode().unwrap();
    let digest = *blake3::hash(&bytes).as_bytes();
    db.save_manifest(&manifest, &digest, &bytes, Some(4096))
        .await
        .unwrap();
    db.manifest_published(12, 260).await.unwrap();
    let neurons: Vec<NeuronRow> = (0..MINERS)
        .map(|uid| NeuronRow {
            uid,
            hotkey: format!("hotkey-{uid}"),
            coldkey: "coldkey".into(),
            stake: 1000 * u64::from(uid),
            validator_permit: uid == 0,
            active: true,
            last_update: 280,
            incentive: if uid == 1 { 0.6 } else { 0.0 },
            dividends: 0.0,
            consensus: 0.0,
            emission: 0,
        })
        .collect();
    db.save_neurons(295, &neurons).await.unwrap();
    let health = Arc::new(Health::default());
    health.block(305);
    let state = HttpState {
        db: db.clone(),
        health,
        stale_after: Duration::from_secs(60),
        prometheus: prometheus(),
        chain: Some("local".into()),
        clock: Some(hparams.window_clock().unwrap()),
    };
    (t, state)
}

pub(crate) fn app(state: &HttpState) -> Router {
    router(state.clone(), &HttpOptions::default()).unwrap()
}

pub(crate) async fn get_with(
    app: &Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (parts.status, parts.headers, bytes.to_vec())
}

/// A fresh database no validator has claimed, served without a chain or clock.
pub(crate) async fn unclaimed() -> (TestDb, HttpState) {
    let t = TestDb::new().await.unwrap();
    let state = HttpState {
        db: t.db.clone(),
        health: Arc::new(Health::default()),
        stale_after: Duration::from_secs(60),
        prometheus: prometheus(),
        chain: None,
        clock: None,
    };
    (t, state)
}
