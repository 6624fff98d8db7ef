//! The page around every view: head, header, footer, and the embedded style sheet and script
//! (served from the binary, named by their hash so browsers may keep them for good).

use maud::{DOCTYPE, Markup, html};
use std::sync::LazyLock;

/// The style sheet.
pub(super) const CSS: &str = include_str!("assets/dashboard.css");
/// The script: live refresh and the countdown. The pages read fully without it.
pub(super) const JS: &str = include_str!("assets/dashboard.js");

/// The style sheet's path, versioned by its content.
pub(super) static CSS_PATH: LazyLock<String> = LazyLock::new(|| versioned("dashboard.css", CSS));
/// The script's path, versioned by its content.
pub(super) static JS_PATH: LazyLock<String> = LazyLock::new(|| versioned("dashboard.js", JS));

fn versioned(name: &str, body: &str) -> String {
    let hash = blake3::hash(body.as_bytes()).to_hex();
    format!("/assets/{name}?v={}", &hash[..16])
}

/// What the header says about the run.
#[derive(Debug, Clone, Default)]
pub(super) struct Banner {
    /// The subnet, once known.
    pub(super) netuid: Option<u16>,
    /// The chain, as configured.
    pub(super) chain: Option<String>,
    /// kiln's version.
    pub(super) version: &'static str,
}

impl Banner {
    /// The banner of `netuid` (unknown: `None`) on `chain`, with this build's version.
    pub(super) fn new(netuid: Option<u16>, chain: Option<String>) -> Self {
        Banner {
            netuid,
            chain,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// A whole page: `title`, then `main`, refreshed live every `refresh_ms` when set.
pub(super) fn page(title: &str, banner: &Banner, refresh_ms: Option<u64>, main: Markup) -> Markup {
    let subnet = banner
        .netuid
        .map_or_else(|| "kiln".to_owned(), |n| format!("kiln · subnet {n}"));
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · " (subnet) }
                link rel="stylesheet" href=(CSS_PATH.as_str());
                script src=(JS_PATH.as_str()) defer {}
            }
            body {
                header.top {
                    a.brand href="/" { (subnet) }
                    @if let Some(chain) = &banner.chain {
                        span.chain { "on " (chain) }
                    }
                    nav {
                        a href="/" { "overview" }
                        a href="/api/v1/openapi.json" { "API" }
                    }
                }
                main #live data-refresh-ms=[refresh_ms] { (main) }
                footer {
                    "kiln " (banner.version) " · the same data as JSON: "
                    a href="/api/v1/status" { "/api/v1" }
                    span #live-state {}
                }
            }
        }
    }
}
