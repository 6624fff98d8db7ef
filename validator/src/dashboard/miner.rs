//! One miner (`/miners/{uid}`): its standing now and window by window, with charts of its final
//! score and its loss score.

use super::chart::{Series, line_chart};
use super::words::{num, pct, verdict};
use crate::api::query;
use crate::api::types::{HistoryPage, MinerDetail, PageQuery};
use crate::db::{Db, DbError};
use maud::{Markup, html};

/// Windows of history shown.
const HISTORY: u32 = 200;

/// Everything the miner page shows.
#[derive(Debug, Clone)]
pub(super) struct MinerPage {
    /// Its standing in the latest window, if it is in it.
    pub(super) detail: Option<MinerDetail>,
    /// Its windows, newest first.
    pub(super) history: HistoryPage,
}

/// Reads a miner; `None` if it was never scored.
pub(super) async fn load(db: &Db, uid: u16) -> Result<Option<MinerPage>, DbError> {
    let q = PageQuery {
        limit: Some(HISTORY),
        before: None,
    };
    let Some(history) = query::history(db, uid, &q).await? else {
        return Ok(None);
    };
    let detail = query::miner(db, uid).await?;
    Ok(Some(MinerPage { detail, history }))
}

/// The miner page's main part.
pub(super) fn render(p: &MinerPage) -> Markup {
    let uid = p.history.uid;
    let oldest_first: Vec<_> = p.history.items.iter().rev().collect();
    html! {
        h1 { "Miner " (uid) }
        @if let Some(d) = &p.detail {
            @let m = &d.miner;
            @let (words, bad) = verdict(&m.verdict);
            p.mono.wrap { (m.hotkey) }
            section.cards {
                div.card { h2 { "window " (m.window) } p.big.bad[bad] { (words) } p.sub.penalty { (m.penalty.as_deref().unwrap_or("no penalty")) } }
                div.card { h2 { "final score" } p.big { (num(Some(m.final_score), 3)) } p.sub { "BMA " (num(Some(m.bma), 3)) } }
                div.card { h2 { "weight" } p.big { (pct(m.weight)) } p.sub { "incentive " (pct(m.incentive)) } }
                div.card {
                    h2 { "last evaluated" }
                    @match &d.last_evaluation {
                        Some(e) => {
                            p.big { (num(Some(e.evaluation.loss_score), 4)) }
                            p.sub { "loss score, window " (e.window) }
                        }
                        None => { p.big { "–" } p.sub { "never evaluated" } }
                    }
                }
                div.card { h2 { "penalties" } p.big { (d.penalties) } p.sub { "over all windows" } }
            }
        } @else {
            p.note { "Not in the latest scored window." }
        }
        section {
            h2 { "Final score" }
            (line_chart("final score", &[Series {
                name: "final score",
                class: "s1",
                points: oldest_first.iter().map(|h| (h.window, h.final_score)).collect(),
            }], |v| format!("{v:.3}")))
            h2 { "Loss score" }
            p.hint { "Relative improvement of the loss on random rows its update gave, when evaluated." }
            (line_chart("loss score", &[Series {
                name: "loss score",
                class: "s2",
                points: oldest_first.iter().filter_map(|h| h.loss_score.map(|l| (h.window, l))).collect(),
            }], |v| format!("{v:.4}")))
        }
        section {
            h2 { "Window by window" }
            div.scroll {
                table {
                    thead { tr {
                        th { "window" } th { "verdict" } th.num { "loss score" } th.num { "indicator" }
                        th.num { "BMA" } th.num { "μ" } th.num { "σ" } th.num { "sync" } th.num { "final" }
                    } }
                    tbody {
                        @for h in &p.history.items {
                            @let (words, bad) = verdict(&h.verdict);
                            tr.bad[bad] data-window=(h.window) {
                                td { a href=(format!("/windows/{}", h.window)) { (h.window) } }
                                td { (words) }
                                td.num { (num(h.loss_score, 4)) }
                                td.num { (h.indicator.map_or("–".into(), |i| format!("{i:+}"))) }
                                td.num { (num(Some(h.bma), 3)) }
                                td.num { (num(Some(h.mu), 2)) }
                                td.num { (num(Some(h.sigma), 2)) }
                                td.num { (num(Some(h.sync), 2)) }
                                td.num { (num(Some(h.final_score), 3)) }
                            }
                        }
                    }
                }
            }
            @if p.history.next_before.is_some() {
                p.hint { "The latest " (HISTORY) " windows; older ones: " a href=(format!("/api/v1/miners/{uid}/history?before={}", p.history.items.last().map_or(0, |h| h.window))) { "the API" } "." }
            }
        }
    }
}
