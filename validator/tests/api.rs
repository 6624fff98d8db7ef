//! The dashboard API on the real Postgres, over data written by the validator's own persistence
//! code, driven through the router with `oneshot`: every endpoint, pagination edges, bad
//! parameters, unknown windows and miners, ETags, gzip, CORS, the time limit, and every 200
//! body validated against the OpenAPI document the router serves.

mod support;

use axum::Router;
use axum::http::{StatusCode, header};
use kiln_validator::http::{HttpOptions, HttpState, router};
use serde_json::{Value, json};
use std::time::Duration;
use support::*;

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (status, headers, body) = get_with(app, uri, &[]).await;
    if status != StatusCode::NOT_MODIFIED {
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json",
            "{uri}"
        );
    }
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// What `body` breaks of the 200 response schema the OpenAPI document gives `path`.
fn violations(doc: &Value, path: &str, body: &Value) -> Vec<String> {
    let schema =
        &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "no 200 schema for {path}");
    let root = json!({ "$ref": schema["$ref"], "components": doc["components"] });
    let validator = jsonschema::validator_for(&root).unwrap();
    validator.iter_errors(body).map(|e| e.to_string()).collect()
}

/// Validates `body` against that schema.
fn conforms(doc: &Value, path: &str, body: &Value) {
    let errors = violations(doc, path, body);
    assert!(errors.is_empty(), "{path}: {errors:?}\n{body}");
}

#[tokio::test]
async fn every_endpoint_answers_from_the_recorded_windows_and_matches_its_openapi_schema() {
    let (t, state) = populated().await;
    let app = app(&state);
    let (status, doc) = get(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");

    let (status, s) = get(&app, "/api/v1/status").await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["netuid"], 1);
    assert_eq!(s["validator_hotkey"], "validator-hotkey");
    assert_eq!(s["last_scored_window"], LAST);
    assert_eq!(s["current_block"], 305);
    assert_eq!(s["current_window"], 305 / 20);
    assert_eq!(s["chain"], "local");
    conforms(&doc, "/api/v1/status", &s);

    let (status, page) = get(&app, "/api/v1/windows").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<u64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["window"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [14, 13, 12, 11, 10]);
    assert!(page["next_before"].is_null());
    assert_eq!(page["items"][0]["submissions"], MINERS);
    assert_eq!(page["items"][0]["weights_status"], "pending");
    assert_eq!(page["items"][2]["manifest"].as_str().unwrap().len(), 64);
    conforms(&doc, "/api/v1/windows", &page);

    let (status, w) = get(&app, "/api/v1/windows/12").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w["window"]["window"], 12);
    assert_eq!(
        w["submissions"].as_array().unwrap().len(),
        usize::from(MINERS)
    );
    assert!(!w["evaluations"].as_array().unwrap().is_empty());
    assert!(
        w["penalties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["uid"] == 5 && p["reason"] == "copy of uid 0"),
        "{w}"
    );
    assert_eq!(w["weights"]["status"], "included");
    assert_eq!(w["manifest"]["peers"], json!([1, 2]));
    assert_eq!(w["manifest"]["checkpoint"], hex::encode([3; 32]));
    assert_eq!(w["manifest"]["commit_block"], 260);
    conforms(&doc, "/api/v1/windows/{window}", &w);
    // The model's held-out loss, as the validator recorded it (6.0 − window/1000).
    assert!((w["window"]["model_loss"].as_f64().unwrap() - 5.988).abs() < 1e-12);

    let (status, series) = get(&app, "/api/v1/model/loss?limit=3").await;
    assert_eq!(status, StatusCode::OK, "{series}");
    let points: Vec<(u64, f64)> = series["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["window"].as_u64().unwrap(),
                p["model_loss"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(points.iter().map(|p| p.0).collect::<Vec<_>>(), [14, 13, 12]);
    assert!(
        points
            .iter()
            .all(|(w, l)| (l - (6.0 - *w as f64 * 1e-3)).abs() < 1e-12)
    );
    assert_eq!(series["next_before"], 12);
    conforms(&doc, "/api/v1/model/loss", &series);
    let (_, rest) = get(&app, "/api/v1/model/loss?before=12").await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert!(rest["next_before"].is_null());

    let (status, m) = get(&app, "/api/v1/miners").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(m["window"], LAST);
    let items = m["items"].as_array().unwrap();
    assert_eq!(items.len(), usize::from(MINERS));
    // The latest vector sent (window 13's; 14's is still pending) and the snapshot's incentive.
    assert_eq!(items[1]["weight"], 0.6);
    assert_eq!(items[1]["incentive"], 0.6);
    assert!(items[3]["weight"].is_null());
    assert_eq!(items[3]["verdict"], "missing");
    // Why each lost standing, in words: its penalty's reason.
    assert_eq!(items[3]["penalty"], "missing");
    assert_eq!(items[5]["penalty"], "copy of uid 0");
    assert!(items[1]["penalty"].is_null());
    conforms(&doc, "/api/v1/miners", &m);

    let (status, one) = get(&app, "/api/v1/miners/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["miner"]["uid"], 1);
    assert_eq!(one["last_evaluation"]["window"], LAST);
    conforms(&doc, "/api/v1/miners/{uid}", &one);
    let (_, copier) = get(&app, "/api/v1/miners/5").await;
    assert_eq!(copier["penalties"], LAST - FIRST + 1);

    let (status, h) = get(&app, "/api/v1/miners/2/history?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["items"][0]["window"], 14);
    assert_eq!(h["items"][1]["window"], 13);
    assert_eq!(h["next_before"], 13);
    conforms(&doc, "/api/v1/miners/{uid}/history", &h);
    let (_, rest) = get(&app, "/api/v1/miners/2/history?limit=10&before=13").await;
    let windows: Vec<u64> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["window"].as_u64().unwrap())
        .collect();
    assert_eq!(windows, [12, 11, 10]);
    assert!(rest["next_before"].is_null());
    assert!(rest["items"][0]["loss_score"].as_f64().unwrap() > 0.0);

    let (status, wv) = get(&app, "/api/v1/weights?limit=3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wv["items"].as_array().unwrap().len(), 3);
    assert_eq!(wv["items"][0]["status"], "pending");
    assert_eq!(wv["items"][1]["tx_hash"], hex::encode([7; 32]));
    assert_eq!(wv["next_before"], 12);
    conforms(&doc, "/api/v1/weights", &wv);

    let (status, mg) = get(&app, "/api/v1/metagraph").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mg["block"], 295);
    assert_eq!(mg["neurons"].as_array().unwrap().len(), usize::from(MINERS));
    conforms(&doc, "/api/v1/metagraph", &mg);

    // The schemas do constrain: a malformed body is caught.
    let mut broken = page.clone();
    broken["items"][0]["window"] = json!("fourteen");
    broken["next_before"] = json!(-1);
    assert_eq!(violations(&doc, "/api/v1/windows", &broken).len(), 2);
    let mut missing = s.clone();
    missing.as_object_mut().unwrap().remove("netuid");
    assert!(!violations(&doc, "/api/v1/status", &missing).is_empty());

    // Every route of the router is documented.
    for path in [
        "/api/v1/status",
        "/api/v1/windows",
        "/api/v1/windows/{window}",
        "/api/v1/model/loss",
        "/api/v1/miners",
        "/api/v1/miners/{uid}",
        "/api/v1/miners/{uid}/history",
        "/api/v1/weights",
        "/api/v1/metagraph",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} undocumented");
    }
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn pagination_edges_bad_parameters_and_unknown_ids() {
    let (t, state) = populated().await;
    let app = app(&state);
    // Walk the windows two at a time.
    let mut seen = Vec::new();
    let mut uri = "/api/v1/windows?limit=2".to_string();
    loop {
        let (status, page) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::OK);
        for w in page["items"].as_array().unwrap() {
            seen.push(w["window"].as_u64().unwrap());
        }
        match page["next_before"].as_u64() {
            Some(b) => uri = format!("/api/v1/windows?limit=2&before={b}"),
            None => break,
        }
    }
    assert_eq!(seen, [14, 13, 12, 11, 10]);
    let (_, exact) = get(&app, "/api/v1/windows?limit=5").await;
    assert!(exact["next_before"].is_null(), "{exact}");
    let (_, none) = get(&app, "/api/v1/windows?before=10").await;
    assert_eq!(none["items"], json!([]));
    let (status, _) = get(&app, "/api/v1/windows?limit=500").await;
    assert_eq!(status, StatusCode::OK);

    for uri in [
        "/api/v1/windows?limit=0",
        "/api/v1/windows?limit=501",
        "/api/v1/windows?limit=ten",
        "/api/v1/windows?before=-1",
        "/api/v1/weights?limit=0",
        "/api/v1/windows/twelve",
        "/api/v1/windows/-3",
        "/api/v1/miners/70000",
        "/api/v1/miners/x/history",
        "/api/v1/miners/1/history?limit=9999",
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"], "bad_parameter", "{uri}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    for uri in [
        "/api/v1/windows/9",
        "/api/v1/windows/18446744073709551615",
        "/api/v1/miners/4000",
        "/api/v1/miners/4000/history",
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert_eq!(body["error"], "not_found", "{uri}");
    }
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn etags_gzip_cors_probes_and_the_time_limit() {
    let (t, state) = populated().await;
    let app = app(&state);
    let (status, headers, body) = get_with(&app, "/api/v1/windows/12", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let tag = headers
        .get(header::ETAG)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(tag.starts_with('"') && tag.len() == 34, "{tag}");
    let (status, _, empty) = get_with(&app, "/api/v1/windows/12", &[("if-none-match", &tag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(empty.is_empty());
    // Another window, another tag.
    let (_, other, _) = get_with(&app, "/api/v1/windows/13", &[]).await;
    assert_ne!(other.get(header::ETAG).unwrap(), &tag);
    let (status, _, _) = get_with(&app, "/api/v1/windows/13", &[("if-none-match", &tag)]).await;
    assert_eq!(status, StatusCode::OK);

    let (_, gz, compressed) =
        get_with(&app, "/api/v1/windows/12", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.get(header::CONTENT_ENCODING).unwrap(), "gzip");
    assert!(
        compressed.len() < body.len(),
        "{} vs {}",
        compressed.len(),
        body.len()
    );

    let (status, health) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["last_block"], 305);
    let (status, _) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, metrics) = get_with(&app, "/metrics", &[]).await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics
            .contains("kiln_api_requests_total{route=\"/api/v1/windows/{window}\",status=\"304\"}"),
        "{metrics}"
    );

    // No CORS headers unless configured; then the allowed origin only.
    let (_, plain, _) = get_with(
        &app,
        "/api/v1/miners",
        &[("origin", "https://dash.example")],
    )
    .await;
    assert!(plain.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let cors = router(
        state.clone(),
        &HttpOptions {
            cors_origins: vec!["https://dash.example".into()],
            ..HttpOptions::default()
        },
    )
    .unwrap();
    let (_, allowed, _) = get_with(
        &cors,
        "/api/v1/miners",
        &[("origin", "https://dash.example")],
    )
    .await;
    assert_eq!(
        allowed.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "https://dash.example"
    );
    let (_, denied, _) = get_with(
        &cors,
        "/api/v1/miners",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert!(denied.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(
        router(
            state.clone(),
            &HttpOptions {
                cors_origins: vec!["bad\norigin".into()],
                ..HttpOptions::default()
            }
        )
        .is_err()
    );

    // A request that outlasts the limit gets a JSON 503: every pooled connection is held, so
    // the query waits.
    let hurried = router(
        state.clone(),
        &HttpOptions {
            timeout: Duration::from_millis(200),
            ..HttpOptions::default()
        },
    )
    .unwrap();
    let mut held = Vec::new();
    for _ in 0..state.db.pool().options().get_max_connections() {
        held.push(state.db.pool().acquire().await.unwrap());
    }
    let (status, body) = get(&hurried, "/api/v1/windows").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "timeout");
    drop(held);

    // A database that went away: readiness fails, queries answer 503 in JSON.
    let down = state.db.clone();
    t.drop_database().await.unwrap();
    let app = app_with_db(&state, down);
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = get(&app, "/api/v1/miners").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "unavailable");
}

fn app_with_db(state: &HttpState, db: kiln_validator::db::Db) -> Router {
    let mut s = state.clone();
    s.db = db;
    app(&s)
}

#[tokio::test]
async fn an_empty_database_answers_without_errors_but_status_waits_for_a_claim() {
    let (t, state) = unclaimed().await;
    let app = app(&state);
    let (status, body) = get(&app, "/api/v1/status").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = get(&app, "/api/v1/windows").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"], json!([]));
    let (_, miners) = get(&app, "/api/v1/miners").await;
    assert_eq!(miners, json!({"window": null, "items": []}));
    let (_, mg) = get(&app, "/api/v1/metagraph").await;
    assert_eq!(mg, json!({"block": null, "neurons": []}));
    t.drop_database().await.unwrap();
}
