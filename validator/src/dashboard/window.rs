//! One window (`/windows/{window}`): what was submitted and fetched, every evaluation, the
//! standings and penalties, the weight vector and whether it landed, the manifest and its
//! checkpoint.

use super::words::{num, short, verdict, weights_status};
use crate::api::types::WindowDetail;
use maud::{Markup, html};

/// Whether the page may still change (its weights are on their way), so it refreshes itself.
pub(super) fn is_settling(d: &WindowDetail) -> bool {
    d.weights
        .as_ref()
        .is_some_and(|w| matches!(w.status.as_str(), "pending" | "committed"))
}

/// The window page's main part.
pub(super) fn render(d: &WindowDetail) -> Markup {
    let w = &d.window;
    html! {
        h1 { "Window " (w.window) }
        section.cards {
            div.card { h2 { "blocks" } p.big { (w.start_block) } p.sub { "deadline " (w.deadline) ", seed " (w.seed_block) } }
            div.card { h2 { "model loss" } p.big { (num(w.model_loss, 4)) } p.sub { "base model " span.mono { (short(&w.base_model_hash)) } } }
            div.card { h2 { "submissions" } p.big { (w.submissions) } p.sub { (w.evaluated) " evaluated in " (w.duration_ms) " ms" } }
            div.card {
                h2 { "weights" }
                @match &d.weights {
                    Some(v) => {
                        p.big #weights-status data-status=(v.status) { (weights_status(&v.status)) }
                        p.sub { @if let Some(b) = v.block { "block " (b) } @else if let Some(r) = v.reveal_at { "reveal from block " (r) } }
                    }
                    None => { p.big { "–" } p.sub { "not a weight window" } }
                }
            }
        }
        @if let Some(v) = &d.weights {
            section #weights {
                h2 { "Weight vector" }
                @if let Some(e) = &v.error { p.note { (e) } }
                p.hint {
                    "Version key " (v.version_key)
                    @if let Some(tx) = &v.tx_hash { ", transaction " span.mono title=(tx) { (short(tx)) } }
                    @if let Some(b) = v.commit_block { ", committed at block " (b) }
                    @if let Some(r) = v.reveal_round { ", drand round " (r) }
                }
                div.scroll { table {
                    thead { tr { th { "uid" } th.num { "weight" } } }
                    tbody { @for (u, x) in v.uids.iter().zip(&v.weights) {
                        tr { td { a href=(format!("/miners/{u}")) { (u) } } td.num { (format!("{:.1} %", x * 100.0)) } }
                    } }
                } }
            }
        }
        @if let Some(m) = &d.manifest {
            section #manifest {
                h2 { "Aggregation manifest" }
                dl {
                    dt { "digest" } dd.mono.wrap { (m.digest) }
                    dt { "model it produces" } dd.mono.wrap { (m.result_model_hash) }
                    dt { "peers" } dd { @for (i, u) in m.peers.iter().enumerate() { @if i > 0 { ", " } a href=(format!("/miners/{u}")) { (u) } } }
                    dt { "checkpoint" } dd.mono.wrap { (m.checkpoint.as_deref().unwrap_or("none")) }
                    dt { "published" } dd { (m.commit_block.map_or("not yet".into(), |b| format!("block {b}"))) }
                }
            }
        }
        section #submissions {
            h2 { "Submissions" }
            div.scroll { table {
                thead { tr { th { "uid" } th { "outcome" } th { "reason" } th.num { "bytes" } th.num { "commit block" } th { "digest" } } }
                tbody { @for s in &d.submissions {
                    @let (words, bad) = verdict(&s.outcome);
                    tr.bad[bad] data-uid=(s.uid) {
                        td { a href=(format!("/miners/{}", s.uid)) { (s.uid) } }
                        td { (words) }
                        td.penalty { (s.detail.as_deref().unwrap_or("")) }
                        td.num { (s.byte_len.map_or("–".into(), |b| b.to_string())) }
                        td.num { (s.commit_block.map_or("–".into(), |b| b.to_string())) }
                        td.mono { (s.digest.as_deref().map_or("–".into(), short)) }
                    }
                } }
            } }
        }
        section #evaluations {
            h2 { "Evaluations" }
            div.scroll { table {
                thead { tr {
                    th { "uid" } th.num { "loss score" } th.num { "indicator" } th.num { "random before → after" }
                    th.num { "own before → after" } th.num { "rows" } th { "device" } th.num { "ms" }
                } }
                tbody { @for e in &d.evaluations {
                    tr data-uid=(e.uid) {
                        td { a href=(format!("/miners/{}", e.uid)) { (e.uid) } }
                        td.num { (num(Some(e.loss_score), 4)) }
                        td.num { (format!("{:+}", e.indicator)) }
                        td.num { (num(Some(e.loss_rand_before), 4)) " → " (num(Some(e.loss_rand_after), 4)) }
                        td.num { (num(Some(e.loss_own_before), 4)) " → " (num(Some(e.loss_own_after), 4)) }
                        td.num { (e.own_rows) " + " (e.random_rows) }
                        td { (e.device) }
                        td.num { (e.duration_ms) }
                    }
                } }
            } }
            @if d.evaluations.is_empty() { p.empty { "No evaluation this window." } }
        }
        section #scores {
            h2 { "Standings after the window" }
            div.scroll { table {
                thead { tr { th { "uid" } th { "verdict" } th.num { "μ" } th.num { "σ" } th.num { "BMA" } th.num { "sync" } th.num { "misses" } th.num { "final" } } }
                tbody { @for s in &d.scores {
                    tr data-uid=(s.uid) {
                        td { a href=(format!("/miners/{}", s.uid)) { (s.uid) } }
                        td { (verdict(&s.verdict).0) }
                        td.num { (num(Some(s.mu), 2)) }
                        td.num { (num(Some(s.sigma), 2)) }
                        td.num { (num(Some(s.bma), 3)) }
                        td.num { (num(Some(s.sync), 2)) }
                        td.num { (s.misses) }
                        td.num { (num(Some(s.final_score), 3)) }
                    }
                } }
            } }
        }
        section #penalties {
            h2 { "Penalties" }
            @if d.penalties.is_empty() { p.empty { "None this window." } } @else {
                div.scroll { table {
                    thead { tr { th { "uid" } th { "reason" } th.num { "score ×" } } }
                    tbody { @for p in &d.penalties {
                        tr.bad data-uid=(p.uid) {
                            td { a href=(format!("/miners/{}", p.uid)) { (p.uid) } }
                            td.penalty { (p.reason) }
                            td.num { (num(Some(p.factor), 2)) }
                        }
                    } }
                } }
            }
        }
    }
}
