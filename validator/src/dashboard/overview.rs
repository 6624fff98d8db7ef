//! The overview (`/`): where the run stands, the model's held-out loss, every miner of the
//! latest window with why it lost standing, and the latest windows.

use super::chart::{Series, line_chart};
use super::words::{num, pct, seconds, short, verdict, weights_status};
use crate::api::types::{MinerList, ModelLossPoint, PageQuery, Status, WindowBrief, WindowDetail};
use crate::api::{ApiState, live_status, query};
use crate::db::DbError;
use maud::{Markup, html};
use std::time::Duration;

/// Windows in the table.
const WINDOWS_SHOWN: u32 = 20;
/// Windows in the loss chart, newest.
const LOSS_POINTS: u32 = crate::api::types::MAX_LIMIT;

/// Everything the overview shows.
#[derive(Debug, Clone)]
pub(super) struct Overview {
    /// The validator's status; `None` before it claimed the database.
    pub(super) status: Option<Status>,
    /// The next window and how long until it starts, when the chain is followed live.
    pub(super) next_window: Option<(u64, Duration)>,
    /// The model's held-out loss, oldest first.
    pub(super) loss: Vec<ModelLossPoint>,
    /// The miners of the latest scored window.
    pub(super) miners: MinerList,
    /// The latest scored window in full.
    pub(super) latest: Option<WindowDetail>,
    /// The latest windows, newest first.
    pub(super) windows: Vec<WindowBrief>,
}

/// Reads the overview.
pub(super) async fn load(s: &ApiState) -> Result<Overview, DbError> {
    let status = live_status(s).await?;
    let mut loss = query::model_loss(
        &s.db,
        &PageQuery {
            limit: Some(LOSS_POINTS),
            before: None,
        },
    )
    .await?
    .items;
    loss.reverse();
    let miners = query::miners(&s.db).await?;
    let latest = match miners.window {
        Some(w) => query::window_detail(&s.db, w).await?,
        None => None,
    };
    let windows = query::windows(
        &s.db,
        &PageQuery {
            limit: Some(WINDOWS_SHOWN),
            before: None,
        },
    )
    .await?
    .items;
    Ok(Overview {
        status,
        next_window: next_window(s),
        loss,
        miners,
        latest,
        windows,
    })
}

/// The next window and the time until its first block, from the last block seen and the block
/// interval observed.
fn next_window(s: &ApiState) -> Option<(u64, Duration)> {
    let (block, age) = s.health.last_block()?;
    let clock = s.clock?;
    let interval = s.health.block_interval()?;
    let blocks = u32::try_from(clock.blocks_until_next_window(block)).ok()?;
    let next = clock.window_of(block) + 1;
    Some((next, (interval * blocks).saturating_sub(age)))
}

/// The overview's main part.
pub(super) fn render(o: &Overview) -> Markup {
    let first = o.loss.first();
    let last = o.loss.last();
    let paid = o
        .miners
        .items
        .iter()
        .filter(|m| m.weight.is_some_and(|w| w > 0.0))
        .count();
    let loss_scores = |uid: u16| {
        o.latest
            .as_ref()
            .and_then(|d| d.evaluations.iter().find(|e| e.uid == uid))
            .map(|e| e.loss_score)
    };
    html! {
        section.cards aria-label="where the run stands" {
            div.card {
                h2 { "window" }
                p.big #current-window { (o.status.as_ref().and_then(|s| s.current_window).map_or("–".into(), |w| w.to_string())) }
                p.sub { "block " (o.status.as_ref().and_then(|s| s.current_block).map_or("–".into(), |b| b.to_string())) }
            }
            div.card {
                h2 { "next window" }
                @match o.next_window {
                    Some((w, d)) => {
                        p.big #next-window data-seconds=(d.as_secs()) { (seconds(d.as_secs())) }
                        p.sub { "window " (w) }
                    }
                    None => { p.big { "–" } p.sub { "not following the chain" } }
                }
            }
            div.card {
                h2 { "model loss" }
                p.big #model-loss { (num(last.map(|p| p.model_loss), 4)) }
                p.sub {
                    @if let (Some(f), Some(l)) = (first, last) {
                        (format!("{:+.4}", l.model_loss - f.model_loss)) " since window " (f.window)
                    } @else { "on held-out rows" }
                }
            }
            div.card {
                h2 { "miners paid" }
                p.big { (paid) " of " (o.miners.items.len()) }
                p.sub { "last scored: window " (o.miners.window.map_or("–".into(), |w| w.to_string())) }
            }
        }
        @if o.status.is_none() {
            p.note { "No validator has claimed this database yet: the page fills in once it scores its first window." }
        }
        section #loss {
            h2 { "Model loss on held-out rows" }
            p.hint { "The mean loss of the subnet's model on rows no miner trains on, measured every window: falling means the network trains." }
            (line_chart("held-out loss", &[Series {
                name: "held-out loss",
                class: "s1",
                points: o.loss.iter().map(|p| (p.window, p.model_loss)).collect(),
            }], |v| format!("{v:.3}")))
        }
        section #miners data-window=[o.miners.window] {
            h2 { "Miners" @if let Some(w) = o.miners.window { " in window " (w) } }
            div.scroll {
                table {
                    thead { tr {
                        th { "uid" } th { "hotkey" } th { "verdict" } th.num { "loss score" }
                        th.num { "BMA" } th.num { "final" } th.num { "weight" } th.num { "incentive" }
                        th { "why it lost standing" }
                    } }
                    tbody {
                        @for m in &o.miners.items {
                            @let (words, bad) = verdict(&m.verdict);
                            tr.bad[bad || m.final_score <= 0.0] data-uid=(m.uid) {
                                td { a href=(format!("/miners/{}", m.uid)) { (m.uid) } }
                                td.mono title=(m.hotkey) { (short(&m.hotkey)) }
                                td.verdict data-verdict=(m.verdict) { (words) }
                                td.num { (num(loss_scores(m.uid), 4)) }
                                td.num { (num(Some(m.bma), 3)) }
                                td.num { (num(Some(m.final_score), 3)) }
                                td.num { (pct(m.weight)) }
                                td.num { (pct(m.incentive)) }
                                td.penalty { (m.penalty.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            @if o.miners.items.is_empty() { p.empty { "No window scored yet." } }
        }
        section #windows {
            h2 { "Windows" }
            div.scroll {
                table {
                    thead { tr {
                        th { "window" } th { "scored" } th.num { "submissions" } th.num { "evaluated" }
                        th.num { "model loss" } th { "weights" } th { "manifest" }
                    } }
                    tbody {
                        @for w in &o.windows {
                            tr data-window=(w.window) {
                                td { a href=(format!("/windows/{}", w.window)) { (w.window) } }
                                td { (w.scored_at.get(11..19).unwrap_or(&w.scored_at)) }
                                td.num { (w.submissions) }
                                td.num { (w.evaluated) }
                                td.num { (num(w.model_loss, 4)) }
                                td { (w.weights_status.as_deref().map_or("–", weights_status)) }
                                td.mono { (w.manifest.as_deref().map_or("–".into(), short)) }
                            }
                        }
                    }
                }
            }
            @if o.windows.is_empty() { p.empty { "No window scored yet." } }
        }
    }
}
