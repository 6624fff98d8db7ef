//! Recomputing a recorded window: its scores from the recorded verdicts and measurements and
//! the standings before it, and its weight vector, compared with what was recorded.

use crate::db::{Db, DbError};
use crate::score::{ScoreParams, score_window};
use crate::weights::RankSchedule;
use crate::window::sets_weights;
use std::collections::BTreeMap;

/// A weight vector: `(uid, weight)` summing to 1.
pub type WeightVector = Vec<(u16, f64)>;

/// A window recomputed next to its record.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// The window.
    pub window: u64,
    /// Per uid: the recorded and the recomputed final score.
    pub finals: Vec<(u16, f64, f64)>,
    /// The recorded and the recomputed weight vector (weight windows only).
    pub weights: Option<(WeightVector, WeightVector)>,
}

impl Replay {
    /// Whether every final score and the weight vector are reproduced exactly.
    pub fn matches(&self) -> bool {
        self.finals
            .iter()
            .all(|(_, a, b)| a.to_bits() == b.to_bits())
            && self.weights.as_ref().is_none_or(|(recorded, again)| {
                recorded.len() == again.len()
                    && recorded
                        .iter()
                        .zip(again)
                        .all(|(a, b)| a.0 == b.0 && (a.1 - b.1).abs() < 1e-12)
            })
    }
}

/// Recomputes `window` from the database with the scoring constants the validator ran with.
/// A recorded self-weight (nobody earned anything) is reproduced as an empty schedule.
pub async fn replay(
    db: &Db,
    window: u64,
    params: &ScoreParams,
    schedule: &RankSchedule,
    windows_per_weights: u64,
) -> Result<Replay, DbError> {
    let verdicts = db.window_verdicts(window).await?;
    let hotkeys: BTreeMap<u16, String> = verdicts
        .iter()
        .map(|(uid, (hk, _))| (*uid, hk.clone()))
        .collect();
    let standings = db.standings_before(window, &hotkeys).await?;
    let only: BTreeMap<u16, _> = verdicts.into_iter().map(|(u, (_, v))| (u, v)).collect();
    let scored = score_window(&standings, &only, params);
    let recorded: BTreeMap<u16, f64> = db.final_scores(window).await?.into_iter().collect();
    let finals = scored
        .iter()
        .map(|s| {
            (
                s.uid,
                recorded.get(&s.uid).copied().unwrap_or(f64::NAN),
                s.final_score,
            )
        })
        .collect();
    let weights = match db.weights(window).await? {
        Some(row) if sets_weights(window, windows_per_weights) => {
            let again = schedule.weights(
                &scored
                    .iter()
                    .map(|s| (s.uid, s.final_score))
                    .collect::<Vec<_>>(),
            );
            let recorded: Vec<(u16, f64)> = row.uids.into_iter().zip(row.weights).collect();
            // The self-weight fallback is not a scored uid.
            let recorded =
                if again.is_empty() && recorded.len() == 1 && !hotkeys.contains_key(&recorded[0].0)
                {
                    Vec::new()
                } else {
                    recorded
                };
            Some((recorded, again))
        }
        _ => None,
    };
    Ok(Replay {
        window,
        finals,
        weights,
    })
}
