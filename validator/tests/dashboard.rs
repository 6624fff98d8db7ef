//! The web dashboard on the real Postgres, over windows written by the validator's own
//! persistence code, through the router with `oneshot`: the overview, a miner, a window, every
//! link the pages carry, the embedded assets, error pages, escaping and an empty database. The
//! rendered page in a real browser is tested end to end in `tests/tests/adversarial.rs`.

mod support;

use axum::Router;
use axum::http::{StatusCode, header};
use kiln_validator::dashboard::CONTENT_SECURITY_POLICY;
use kiln_validator::db::testing::synthetic_record;
use scraper::{ElementRef, Html, Selector};
use std::time::{SystemTime, UNIX_EPOCH};
use support::*;

/// Fetches an HTML page: its status and document, checking the headers every page carries.
async fn page(app: &Router, uri: &str) -> (StatusCode, Html) {
    let (status, headers, body) = get_with(app, uri, &[]).await;
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "text/html; charset=utf-8",
        "{uri}"
    );
    assert_eq!(
        headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
        CONTENT_SECURITY_POLICY,
        "{uri}"
    );
    let text = String::from_utf8(body).unwrap();
    (status, Html::parse_document(&text))
}

fn all<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

fn one<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
    let found = all(doc, css);
    assert_eq!(found.len(), 1, "{css}: {}", doc.html());
    found[0]
}

fn text(e: ElementRef<'_>) -> String {
    e.text().collect::<String>().trim().to_owned()
}

fn attr<'a>(e: ElementRef<'a>, name: &str) -> &'a str {
    e.value().attr(name).unwrap_or_default()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn the_overview_shows_the_loss_curve_every_miner_and_why_each_lost_standing() {
    let (t, state) = populated().await;
    // Blocks 306 and 307 twelve seconds apart: window 16 starts at block 320, 13 blocks away.
    let at = now_ms();
    state.health.block_at(306, at - 12_000);
    state.health.block_at(307, at);
    let app = app(&state);
    let (status, doc) = page(&app, "/").await;
    assert_eq!(status, StatusCode::OK);

    // The loss curve: one point per window, each with its window and value.
    let chart = one(&doc, "#loss svg");
    assert_eq!(attr(chart, "data-points"), "5");
    let points = all(&doc, "#loss circle.pt");
    let windows: Vec<&str> = points.iter().map(|p| attr(*p, "data-window")).collect();
    assert_eq!(windows, ["10", "11", "12", "13", "14"]);
    let last: f64 = attr(points[4], "data-value").parse().unwrap();
    assert!((last - (6.0 - 14e-3)).abs() < 1e-12, "{last}");
    assert_eq!(text(one(&doc, "#model-loss")), "5.9860");

    // Every miner of the latest window, with its verdict and its penalty in words.
    let rows = all(&doc, "#miners tbody tr");
    let uids: Vec<String> = rows.iter().map(|r| attr(*r, "data-uid").into()).collect();
    let expected: Vec<String> = (0..MINERS).map(|u| u.to_string()).collect();
    assert_eq!(uids, expected);
    let penalty = |uid: u16| {
        text(one(
            &doc,
            &format!("#miners tr[data-uid='{uid}'] td.penalty"),
        ))
    };
    assert_eq!(penalty(5), "copy of uid 0");
    assert_eq!(penalty(3), "missing");
    assert_eq!(penalty(1), "");
    let copier = one(&doc, "#miners tr[data-uid='5']");
    assert!(copier.value().classes().any(|c| c == "bad"));
    let paid = one(&doc, "#miners tr[data-uid='1']");
    assert!(!paid.value().classes().any(|c| c == "bad"));
    assert_eq!(
        text(one(&doc, "#miners tr[data-uid='5'] td.verdict")),
        "copied another miner"
    );
    let weight = one(&doc, "#miners tr[data-uid='1'] td:nth-child(7)");
    assert_eq!(text(weight), "60.0 %");
    assert_eq!(
        attr(one(&doc, "#miners tr[data-uid='1'] a"), "href"),
        "/miners/1"
    );

    // The windows, newest first, with their weights and manifests.
    let windows: Vec<String> = all(&doc, "#windows tbody tr")
        .iter()
        .map(|r| attr(*r, "data-window").into())
        .collect();
    let expected: Vec<String> = (FIRST..=LAST).rev().map(|w| w.to_string()).collect();
    assert_eq!(windows, expected);
    assert_eq!(
        text(one(&doc, "#windows tr[data-window='14'] td:nth-child(6)")),
        "sending"
    );
    assert_eq!(
        text(one(&doc, "#windows tr[data-window='13'] td:nth-child(6)")),
        "on chain"
    );

    // The countdown: 13 blocks of 12 s, less the moments since block 307.
    let next = one(&doc, "#next-window");
    let seconds: u64 = attr(next, "data-seconds").parse().unwrap();
    assert!((150..=156).contains(&seconds), "{seconds}");
    assert_eq!(text(one(&doc, "#current-window")), "15");

    // The page refreshes itself, from its own server only.
    assert_eq!(attr(one(&doc, "main#live"), "data-refresh-ms"), "5000");
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn every_link_on_every_page_resolves_on_this_server_and_nothing_is_fetched_elsewhere() {
    let (t, state) = populated().await;
    let app = app(&state);
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = vec!["/".to_owned()];
    while let Some(uri) = queue.pop() {
        if !seen.insert(uri.clone()) {
            continue;
        }
        let (status, headers, body) = get_with(&app, &uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let html = headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
        if !html {
            continue;
        }
        let doc = Html::parse_document(&String::from_utf8(body).unwrap());
        for e in all(&doc, "[href], [src]") {
            let target = e.value().attr("href").or(e.value().attr("src")).unwrap();
            assert!(target.starts_with('/'), "{uri} refers elsewhere: {target}");
            queue.push(target.to_owned());
        }
    }
    // The overview, 12 miners, 5 windows, the API's documents linked, two assets.
    assert!(
        seen.contains("/miners/5") && seen.contains("/windows/12"),
        "{seen:?}"
    );
    assert!(seen.len() >= 1 + 12 + 5 + 2, "{seen:?}");
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn a_miner_and_a_window_in_full() {
    let (t, state) = populated().await;
    let app = app(&state);

    let (status, doc) = page(&app, "/miners/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text(one(&doc, "h1")), "Miner 1");
    let charts: Vec<&str> = all(&doc, "svg")
        .iter()
        .map(|s| attr(*s, "data-points"))
        .collect();
    assert_eq!(
        charts,
        ["5", "5"],
        "final score and loss score, one point per window"
    );
    assert_eq!(all(&doc, "tbody tr[data-window]").len(), 5);

    // A copier was never evaluated: its loss-score chart says so in words.
    let (_, doc) = page(&app, "/miners/5").await;
    assert_eq!(all(&doc, "svg").len(), 1);
    assert!(doc.html().contains("No loss score yet."));
    assert!(text(one(&doc, "p.sub.penalty")).contains("copy of uid 0"));

    let (status, doc) = page(&app, "/windows/12").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text(one(&doc, "#weights-status")), "on chain");
    assert_eq!(all(&doc, "#weights tbody tr").len(), 2);
    assert!(text(one(&doc, "#manifest")).contains(&hex::encode([3u8; 32])));
    assert_eq!(
        all(&doc, "#submissions tbody tr").len(),
        usize::from(MINERS)
    );
    assert!(!all(&doc, "#evaluations tbody tr").is_empty());
    assert_eq!(
        text(one(&doc, "#penalties tr[data-uid='5'] td.penalty")),
        "copy of uid 0"
    );
    // A settled window does not refresh itself; one whose weights are on their way does.
    assert_eq!(attr(one(&doc, "main#live"), "data-refresh-ms"), "");
    let (_, doc) = page(&app, &format!("/windows/{LAST}")).await;
    assert_eq!(attr(one(&doc, "main#live"), "data-refresh-ms"), "5000");
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn the_assets_are_embedded_and_named_by_their_content() {
    let (t, state) = populated().await;
    let app = app(&state);
    let (_, _, overview) = get_with(&app, "/", &[]).await;
    let (_, _, gzipped) = get_with(&app, "/", &[("accept-encoding", "gzip")]).await;
    eprintln!(
        "overview of {MINERS} miners and {} windows: {} bytes, {} gzipped",
        LAST - FIRST + 1,
        overview.len(),
        gzipped.len()
    );
    assert!(gzipped.len() < overview.len());
    let (_, doc) = page(&app, "/").await;
    let script = attr(one(&doc, "script[src]"), "src").to_owned();
    let sheet = attr(one(&doc, "link[rel='stylesheet']"), "href").to_owned();
    for (uri, kind) in [(script, "text/javascript"), (sheet, "text/css")] {
        assert!(uri.contains("?v="), "{uri}");
        let (status, headers, body) = get_with(&app, &uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let content_type = headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
        assert!(content_type.starts_with(kind), "{content_type}");
        let cache = headers.get(header::CACHE_CONTROL).unwrap();
        assert_eq!(cache, "public, max-age=31536000, immutable");
        assert!(body.len() > 500, "{uri}");
        eprintln!("{uri}: {} bytes", body.len());
        assert!(
            !String::from_utf8(body).unwrap().contains("http"),
            "{uri} fetches nothing"
        );
    }
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn recorded_text_is_escaped() {
    let (t, state) = populated().await;
    let mut record = synthetic_record(LAST + 1, MINERS);
    let hostile = "<script>alert('x')</script>";
    record.scores[5].penalties[0].reason = hostile.to_owned();
    state.db.persist_window(&record).await.unwrap();
    let app = app(&state);
    let (_, headers, body) = get_with(&app, "/", &[]).await;
    assert!(headers.get(header::CONTENT_TYPE).is_some());
    let html = String::from_utf8(body).unwrap();
    assert!(!html.contains(hostile));
    let doc = Html::parse_document(&html);
    assert_eq!(
        text(one(&doc, "#miners tr[data-uid='5'] td.penalty")),
        hostile
    );
    assert_eq!(all(&doc, "script").len(), 1, "only the page's own script");
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn bad_addresses_unknown_ids_and_a_database_gone_get_error_pages() {
    let (t, state) = populated().await;
    let app = app(&state);
    for (uri, code) in [
        ("/miners/99", StatusCode::NOT_FOUND),
        ("/windows/99", StatusCode::NOT_FOUND),
        ("/miners/x", StatusCode::BAD_REQUEST),
        ("/miners/70000", StatusCode::BAD_REQUEST),
        ("/windows/-1", StatusCode::BAD_REQUEST),
    ] {
        let (status, doc) = page(&app, uri).await;
        assert_eq!(status, code, "{uri}");
        assert!(!all(&doc, "a[href='/']").is_empty(), "{uri}");
    }
    let down = state.db.clone();
    t.drop_database().await.unwrap();
    let mut gone = state.clone();
    gone.db = down;
    let (status, doc) = page(&support::app(&gone), "/").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text(one(&doc, "h1")), "Database unavailable");
    // It retries by itself.
    assert_eq!(attr(one(&doc, "main#live"), "data-refresh-ms"), "5000");
}

#[tokio::test]
async fn an_empty_database_shows_a_page_that_waits_for_the_first_window() {
    let (t, state) = unclaimed().await;
    let (status, doc) = page(&app(&state), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc.html()
            .contains("No validator has claimed this database yet")
    );
    assert!(doc.html().contains("No held-out loss yet."));
    assert!(all(&doc, "#miners tbody tr").is_empty());
    t.drop_database().await.unwrap();
}
