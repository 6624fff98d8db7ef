//! What a stack's run showed: per window and per miner, and the run's summary.

use crate::config::Behaviour;
use crate::supervise::Status;
use kiln_validator::api::types::WindowDetail;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One miner in one window.
#[derive(Debug, Clone, Serialize)]
pub struct MinerRow {
    /// Its uid.
    pub uid: u16,
    /// How it behaves.
    pub behaviour: Behaviour,
    /// Its hotkey's secret URI.
    pub hotkey: String,
    /// Its last training loss in the window, as it printed.
    pub loss: Option<f64>,
    /// The validator's verdict for the window.
    pub verdict: String,
    /// The verdict's reason, if it has one.
    pub detail: Option<String>,
    /// Relative loss improvement its update gave, when evaluated.
    pub loss_score: Option<f64>,
    /// Moving average of the assigned-data indicator.
    pub bma: Option<f64>,
    /// Final score.
    pub final_score: Option<f64>,
    /// Weight in the window's vector (`None`: no vector this window).
    pub weight: Option<f64>,
    /// Incentive on chain (Yuma) at the time of the report, in `[0, 1]`.
    pub incentive: f64,
    /// Penalties recorded in the window, with their reasons.
    pub penalties: Vec<String>,
}

/// One scored window.
#[derive(Debug, Clone, Serialize)]
pub struct WindowReport {
    /// The window.
    pub window: u64,
    /// The chain's block when it was reported.
    pub block: u64,
    /// Per miner, by uid.
    pub miners: Vec<MinerRow>,
    /// Whether a weight vector was sent this window.
    pub weights_sent: bool,
    /// Uids in the window's aggregation manifest, if one was published.
    pub manifest_peers: Option<Vec<u16>>,
    /// The model's loss on the run's held-out rows at this window, as the validator measured it.
    pub model_loss: Option<f64>,
}

/// Builds the rows of a window from the validator's record of it (its dashboard API), the
/// chain's incentives and what the miners printed.
pub fn rows(
    detail: &WindowDetail,
    miners: &[(u16, Behaviour, String, Option<f64>)],
    incentive: &BTreeMap<u16, f64>,
) -> Vec<MinerRow> {
    miners
        .iter()
        .map(|(uid, behaviour, hotkey, loss)| {
            let sub = detail.submissions.iter().find(|s| s.uid == *uid);
            let eval = detail.evaluations.iter().find(|e| e.uid == *uid);
            let score = detail.scores.iter().find(|s| s.uid == *uid);
            MinerRow {
                uid: *uid,
                behaviour: *behaviour,
                hotkey: hotkey.clone(),
                loss: *loss,
                verdict: sub
                    .map(|s| s.outcome.clone())
                    .or_else(|| score.map(|s| s.verdict.clone()))
                    .unwrap_or_else(|| "none".into()),
                detail: sub.and_then(|s| s.detail.clone()),
                loss_score: eval.map(|e| e.loss_score),
                bma: score.map(|s| s.bma),
                final_score: score.map(|s| s.final_score),
                weight: detail.weights.as_ref().map(|w| {
                    w.uids
                        .iter()
                        .zip(&w.weights)
                        .find(|(u, _)| **u == *uid)
                        .map_or(0.0, |(_, x)| *x)
                }),
                incentive: incentive.get(uid).copied().unwrap_or(0.0),
                penalties: detail
                    .penalties
                    .iter()
                    .filter(|p| p.uid == *uid)
                    .map(|p| p.reason.clone())
                    .collect(),
            }
        })
        .collect()
}

/// A miner over the whole run.
#[derive(Debug, Clone, Serialize)]
pub struct MinerSummary {
    /// Its uid.
    pub uid: u16,
    /// How it behaves.
    pub behaviour: Behaviour,
    /// Its hotkey's secret URI.
    pub hotkey: String,
    /// Its weight in the last vector sent.
    pub weight: f64,
    /// Its incentive on chain at the end.
    pub incentive: f64,
    /// Its final score after the last window.
    pub final_score: f64,
    /// Windows its update was evaluated in.
    pub evaluated: usize,
    /// Verdict counts over the run.
    pub verdicts: BTreeMap<String, usize>,
    /// The penalty reasons recorded against it: one per kind, in its latest wording.
    pub penalties: Vec<String>,
}

/// The model's held-out loss at one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ModelLoss {
    /// The window.
    pub window: u64,
    /// The loss.
    pub loss: f64,
}

/// A component of a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "component", rename_all = "kebab-case")]
pub enum Component {
    /// The chain.
    Devnet,
    /// The storage gateway.
    Gateway,
    /// The validator.
    Validator,
    /// A miner.
    Miner {
        /// Its uid.
        uid: u16,
    },
}

impl std::fmt::Display for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Component::Devnet => f.write_str("devnet"),
            Component::Gateway => f.write_str("gateway"),
            Component::Validator => f.write_str("validator"),
            Component::Miner { uid } => write!(f, "miner {uid}"),
        }
    }
}

/// How a component has fared: where it stands and how often it was restarted after exiting on
/// its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ComponentStatus {
    /// The component.
    #[serde(flatten)]
    pub component: Component,
    /// Where it stands.
    pub status: Status,
    /// Restarts after unexpected exits.
    pub restarts: u32,
}

/// The run's summary (`kiln up --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Windows scored.
    pub windows: Vec<u64>,
    /// Per miner.
    pub miners: Vec<MinerSummary>,
    /// Whether every miner with non-zero weight is honest and every cheater has zero weight.
    pub honest_hold_all_weight: bool,
    /// The model's held-out loss per window that measured it.
    pub model_loss: Vec<ModelLoss>,
    /// The model's held-out loss at the first window that measured it.
    pub model_loss_first: Option<f64>,
    /// … and at the last.
    pub model_loss_last: Option<f64>,
    /// Every component, with its restarts.
    pub components: Vec<ComponentStatus>,
}

impl Summary {
    /// Sums `reports` up, with where the stack's `components` stand at the end.
    pub fn of(reports: &[WindowReport], components: &[ComponentStatus]) -> Self {
        let mut miners: BTreeMap<u16, MinerSummary> = BTreeMap::new();
        for r in reports {
            for m in &r.miners {
                let s = miners.entry(m.uid).or_insert_with(|| MinerSummary {
                    uid: m.uid,
                    behaviour: m.behaviour,
                    hotkey: m.hotkey.clone(),
                    weight: 0.0,
                    incentive: 0.0,
                    final_score: 0.0,
                    evaluated: 0,
                    verdicts: BTreeMap::new(),
                    penalties: Vec::new(),
                });
                if let Some(w) = m.weight {
                    s.weight = w;
                }
                s.incentive = m.incentive;
                s.final_score = m.final_score.unwrap_or(0.0);
                *s.verdicts.entry(m.verdict.clone()).or_default() += 1;
                s.evaluated += usize::from(m.verdict == "evaluated");
                // One entry per kind of reason, its latest wording.
                for p in m.penalties.iter().chain(m.detail.as_ref()) {
                    match s.penalties.iter_mut().find(|q| kind(q) == kind(p)) {
                        Some(q) => q.clone_from(p),
                        None => s.penalties.push(p.clone()),
                    }
                }
            }
        }
        let miners: Vec<MinerSummary> = miners.into_values().collect();
        let honest_hold_all_weight = !reports.is_empty()
            && miners.iter().any(|m| m.weight > 0.0)
            && miners
                .iter()
                .all(|m| m.behaviour.is_honest() || m.weight == 0.0);
        let model_loss: Vec<ModelLoss> = reports
            .iter()
            .filter_map(|r| {
                r.model_loss.map(|loss| ModelLoss {
                    window: r.window,
                    loss,
                })
            })
            .collect();
        Self {
            windows: reports.iter().map(|r| r.window).collect(),
            miners,
            honest_hold_all_weight,
            model_loss_first: model_loss.first().map(|m| m.loss),
            model_loss_last: model_loss.last().map(|m| m.loss),
            model_loss,
            components: components.to_vec(),
        }
    }
}

/// A reason without its particulars: up to the first digit, `:` or `(`.
fn kind(reason: &str) -> &str {
    let end = reason
        .find(|c: char| c.is_ascii_digit() || c == ':' || c == '(')
        .unwrap_or(reason.len());
    reason[..end].trim_end()
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("-".into(), |v| format!("{v:.digits$}"))
}

/// A window as a table, one line per miner.
pub fn window_table(r: &WindowReport) -> String {
    let mut out = format!(
        "{:>4} {:<12} {:>7} {:<14} {:>10} {:>6} {:>6} {:>7} {:>9}  {}\n",
        "uid",
        "miner",
        "loss",
        "verdict",
        "loss score",
        "bma",
        "final",
        "weight",
        "incentive",
        "penalty"
    );
    for m in &r.miners {
        let _ = writeln!(
            out,
            "{:>4} {:<12} {:>7} {:<14} {:>10} {:>6} {:>6} {:>7} {:>9.4}  {}",
            m.uid,
            m.behaviour.name(),
            opt(m.loss, 3),
            m.verdict,
            opt(m.loss_score, 5),
            opt(m.bma, 2),
            opt(m.final_score, 3),
            opt(m.weight, 3),
            m.incentive,
            m.penalties
                .first()
                .or(m.detail.as_ref())
                .map_or("", |s| s.as_str()),
        );
    }
    out
}

/// The summary as a table.
pub fn summary_table(s: &Summary) -> String {
    let mut out = format!(
        "{:>4} {:<12} {:>7} {:>9} {:>6} {:>9}  {}\n",
        "uid", "miner", "weight", "incentive", "final", "evaluated", "penalties"
    );
    for m in &s.miners {
        let _ = writeln!(
            out,
            "{:>4} {:<12} {:>7.3} {:>9.4} {:>6.3} {:>9}  {}",
            m.uid,
            m.behaviour.name(),
            m.weight,
            m.incentive,
            m.final_score,
            m.evaluated,
            m.penalties.join("; ")
        );
    }
    let _ = writeln!(
        out,
        "\n{:<12} {:<10} {:>8}",
        "component", "status", "restarts"
    );
    for c in &s.components {
        let _ = writeln!(
            out,
            "{:<12} {:<10} {:>8}",
            c.component.to_string(),
            status_name(c.status),
            c.restarts
        );
    }
    out
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Running => "running",
        Status::Restarting => "restarting",
        Status::Stopped => "stopped",
        Status::Failed => "failed",
    }
}

/// The components in one line: how many run untroubled, then each that was restarted or does
/// not run.
pub fn components_line(components: &[ComponentStatus]) -> String {
    let fine = |c: &&ComponentStatus| c.status == Status::Running && c.restarts == 0;
    let mut out = format!(
        "components: {} of {} running",
        components
            .iter()
            .filter(|c| c.status == Status::Running)
            .count(),
        components.len()
    );
    for c in components.iter().filter(|c| !fine(c)) {
        let _ = write!(out, "; {} {}", c.component, status_name(c.status));
        if c.restarts > 0 {
            let s = if c.restarts == 1 { "" } else { "s" };
            let _ = write!(out, " ({} restart{s})", c.restarts);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(uid: u16, behaviour: Behaviour, weight: Option<f64>, penalty: &str) -> MinerRow {
        MinerRow {
            uid,
            behaviour,
            hotkey: format!("//m{uid}"),
            loss: Some(3.0),
            verdict: if penalty.is_empty() {
                "evaluated"
            } else {
                "copy"
            }
            .into(),
            detail: None,
            loss_score: None,
            bma: Some(0.5),
            final_score: weight,
            weight,
            incentive: weight.unwrap_or(0.0),
            penalties: (!penalty.is_empty())
                .then(|| penalty.to_string())
                .into_iter()
                .collect(),
        }
    }

    fn report(window: u64, miners: Vec<MinerRow>) -> WindowReport {
        WindowReport {
            window,
            block: window * 20,
            miners,
            weights_sent: true,
            manifest_peers: None,
            model_loss: Some(6.0 - window as f64 / 10.0),
        }
    }

    #[test]
    fn the_summary_keeps_the_first_and_last_model_loss() {
        let mut reports = vec![
            report(1, Vec::new()),
            report(2, Vec::new()),
            report(3, Vec::new()),
        ];
        reports[0].model_loss = None;
        let s = Summary::of(&reports, &[]);
        assert_eq!(s.model_loss_first, Some(5.8));
        assert_eq!(s.model_loss_last, Some(5.7));
        assert_eq!(
            s.model_loss,
            [
                ModelLoss {
                    window: 2,
                    loss: 5.8
                },
                ModelLoss {
                    window: 3,
                    loss: 5.7
                }
            ]
        );
        assert_eq!(Summary::of(&reports[..2], &[]).model_loss_last, Some(5.8));
        assert_eq!(Summary::of(&reports[..1], &[]).model_loss_first, None);
    }

    #[test]
    fn the_summary_says_whether_only_honest_miners_hold_weight() {
        let good = [
            report(
                1,
                vec![
                    row(1, Behaviour::Honest, Some(1.0), ""),
                    row(2, Behaviour::Copycat, Some(0.0), "copy of 1"),
                ],
            ),
            report(
                2,
                vec![
                    row(1, Behaviour::Honest, Some(1.0), ""),
                    row(2, Behaviour::Copycat, Some(0.0), "copy of 1"),
                ],
            ),
        ];
        let s = Summary::of(&good, &[]);
        assert!(s.honest_hold_all_weight);
        assert_eq!(s.windows, [1, 2]);
        assert_eq!(s.miners[1].penalties, ["copy of 1"]);
        assert_eq!(kind("copy of uid 4 (overlap 1.000)"), "copy of uid");
        assert_eq!(kind("invalid: bad magic"), "invalid");
        assert_eq!(s.miners[1].verdicts["copy"], 2);
        assert_eq!(s.miners[0].evaluated, 2);
        assert!(summary_table(&s).contains("copycat"));
        assert!(window_table(&good[0]).contains("copy of 1"));

        let bad = [report(
            1,
            vec![
                row(1, Behaviour::Honest, Some(0.5), ""),
                row(2, Behaviour::RandomData, Some(0.5), ""),
            ],
        )];
        assert!(!Summary::of(&bad, &[]).honest_hold_all_weight);
        let nobody = [report(1, vec![row(1, Behaviour::Honest, Some(0.0), "")])];
        assert!(!Summary::of(&nobody, &[]).honest_hold_all_weight);
        assert!(!Summary::of(&[], &[]).honest_hold_all_weight);
    }

    #[test]
    fn the_summary_counts_each_components_restarts() {
        let status = |component, status, restarts| ComponentStatus {
            component,
            status,
            restarts,
        };
        let components = [
            status(Component::Devnet, Status::Running, 0),
            status(Component::Gateway, Status::Running, 1),
            status(Component::Validator, Status::Running, 0),
            status(Component::Miner { uid: 2 }, Status::Failed, 5),
        ];
        let s = Summary::of(&[], &components);
        let json = serde_json::to_value(&s).expect("serializable");
        assert_eq!(
            json["components"][1],
            serde_json::json!({"component": "gateway", "status": "running", "restarts": 1})
        );
        assert_eq!(
            json["components"][3],
            serde_json::json!({"component": "miner", "uid": 2, "status": "failed", "restarts": 5})
        );
        let table = summary_table(&s);
        assert!(
            table.contains("gateway      running           1"),
            "{table}"
        );
        assert!(
            table.contains("miner 2      failed            5"),
            "{table}"
        );
        assert_eq!(
            components_line(&components),
            "components: 3 of 4 running; gateway running (1 restart); miner 2 failed (5 restarts)"
        );
        assert_eq!(
            components_line(&components[..1]),
            "components: 1 of 1 running"
        );
    }
}
