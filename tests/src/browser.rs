//! The dashboard in a real browser: headless Chromium loads the running validator's page, lets
//! its script refresh it, and the rendered DOM is checked against the validator's own record;
//! screenshots at desktop and phone width are saved beside the `kiln` binary.

use kiln_stack::{Behaviour, Stack};
use kiln_validator::api::types::WindowDetail;
use scraper::{ElementRef, Html, Selector};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// Virtual time the page gets to run its script: two refreshes at the dashboard's 5 s period.
const BUDGET_MS: u64 = 12_000;
/// The longest one browser run may take.
const BROWSER_WAIT: Duration = Duration::from_secs(120);

/// The browser: `KILN_CHROMIUM`, else `chromium` or `chromium-browser` on the `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KILN_CHROMIUM") {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `url` with `args`; its stdout.
async fn run(browser: &Path, profile: &Path, args: &[String], url: &str) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(BROWSER_WAIT, out)
        .await
        .expect("the browser finished in time")
        .expect("starting the browser");
    assert!(
        out.status.success(),
        "the browser failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

fn all<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&Selector::parse(css).expect("a valid selector"))
        .collect()
}

fn attr<'a>(e: ElementRef<'a>, name: &str) -> Option<&'a str> {
    e.value().attr(name)
}

fn text(e: ElementRef<'_>) -> String {
    e.text().collect::<String>().trim().to_owned()
}

/// What the page should say a miner lost standing for: its penalties, else its submission's
/// reason (as `/api/v1/miners` words it).
fn expected_penalty(detail: &WindowDetail, uid: u16) -> String {
    let reasons: Vec<&str> = detail
        .penalties
        .iter()
        .filter(|p| p.uid == uid)
        .map(|p| p.reason.as_str())
        .collect();
    if !reasons.is_empty() {
        return reasons.join("; ");
    }
    detail
        .submissions
        .iter()
        .find(|s| s.uid == uid)
        .and_then(|s| s.detail.clone())
        .unwrap_or_default()
}

/// Loads the dashboard in Chromium and checks what it rendered; panics on the first failure.
pub(crate) async fn assert_dashboard(name: &str, stack: &Stack, shots: &Path) {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("KILN_REQUIRE_CHROMIUM").is_none(),
            "[{name}] Chromium is required (apt-get install chromium, or set KILN_CHROMIUM)"
        );
        eprintln!("[{name}] SKIPPED the browser check: no chromium (apt-get install chromium)");
        return;
    };
    let profile = tempfile::tempdir().expect("a browser profile folder");
    let url = format!("http://{}/", stack.api_addr());
    let dom = run(
        &browser,
        profile.path(),
        &[
            format!("--virtual-time-budget={BUDGET_MS}"),
            "--window-size=1280,2000".into(),
            "--dump-dom".into(),
        ],
        &url,
    )
    .await;
    let doc = Html::parse_document(&dom);

    // The script ran and refreshed the page from the server.
    let main = all(&doc, "main#live");
    assert_eq!(main.len(), 1, "[{name}] no live main: {dom}");
    assert_eq!(attr(main[0], "data-live"), Some("ok"), "[{name}] {dom}");
    let refreshes: u32 = attr(main[0], "data-refreshes")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    assert!(refreshes >= 1, "[{name}] the page never refreshed");
    let load_ms = all(&doc, "html")
        .first()
        .and_then(|h| attr(*h, "data-load-ms"))
        .unwrap_or("?")
        .to_owned();

    // The loss chart, with a point per scored window.
    let chart = all(&doc, "#loss svg");
    assert_eq!(chart.len(), 1, "[{name}] no loss chart: {dom}");
    let points = all(&doc, "#loss circle.pt").len();
    assert!(points >= 2, "[{name}] the loss chart has {points} points");
    assert_eq!(
        attr(chart[0], "data-points"),
        Some(points.to_string().as_str())
    );

    // Every miner, and the penalty the validator recorded for it in the window shown.
    let window: u64 = all(&doc, "section#miners")
        .first()
        .and_then(|s| attr(*s, "data-window"))
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("[{name}] the miners' table names no window: {dom}"));
    let detail: WindowDetail = stack
        .api_get(&format!("/api/v1/windows/{window}"))
        .await
        .unwrap_or_else(|e| panic!("[{name}] reading window {window}: {e}"));
    let rows = all(&doc, "#miners tbody tr");
    let shown: Vec<u16> = rows
        .iter()
        .filter_map(|r| attr(*r, "data-uid")?.parse().ok())
        .collect();
    for m in stack.miners() {
        assert!(
            shown.contains(&m.uid),
            "[{name}] uid {} is not shown: {shown:?}",
            m.uid
        );
        let cell = all(
            &doc,
            &format!("#miners tr[data-uid='{}'] td.penalty", m.uid),
        );
        let penalty = cell.first().map(|c| text(*c)).unwrap_or_default();
        assert_eq!(
            penalty,
            expected_penalty(&detail, m.uid),
            "[{name}] uid {}",
            m.uid
        );
        if matches!(m.behaviour, Behaviour::Copycat | Behaviour::RandomData) {
            assert!(
                !penalty.is_empty(),
                "[{name}] the {:?} at uid {} shows no penalty",
                m.behaviour,
                m.uid
            );
        }
    }

    std::fs::create_dir_all(shots).expect("the screenshot folder");
    for (which, size) in [("desktop", "1280,1500"), ("phone", "390,2400")] {
        let file = shots.join(format!("{name}-{which}.png"));
        run(
            &browser,
            profile.path(),
            &[
                format!("--screenshot={}", file.display()),
                format!("--window-size={size}"),
                "--virtual-time-budget=2000".into(),
            ],
            &url,
        )
        .await;
        let png = std::fs::read(&file).expect("the screenshot was written");
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "[{name}] {}",
            file.display()
        );
        eprintln!("[{name}] dashboard screenshot: {}", file.display());
    }
    eprintln!(
        "[{name}] dashboard in Chromium: {} miners, {points} loss points, {refreshes} live \
         refreshes, loaded in {load_ms} ms",
        shown.len()
    );
}
