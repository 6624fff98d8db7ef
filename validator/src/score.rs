//! Turning a window's verdicts into standings and final scores. Pure.
//!
//! A miner's standing is its rating (Plackett–Luce over loss scores), its binary moving
//! average of the assigned-data indicator (BMA) and its run of missed windows. Its final score
//! for a window is
//!
//! `final = exp(ordinal / β) × max(0, BMA) × sync × multiplier`
//!
//! where `multiplier` is the product of the window's penalty factors. The BMA clamp stops the
//! "drive BMA negative, then send garbage" exploit; every factor below 1 is a penalty row with
//! its reason.
//!
//! **Decision: `exp(ordinal/β)` instead of Templar's `max(0, ordinal)`.** Weights come from a
//! rank schedule, so the skill term only has to order miners; the gates (BMA, sync, penalties)
//! decide who is paid at all. `max(0, ordinal)` pays nobody in a small or young subnet until σ
//! has shrunk (ordinal starts at 0 and sits below zero for every miner not winning outright),
//! and lets one cheater with large loss scores push every honest ordinal below zero.
//! `exp(ordinal/β)` is positive and strictly increasing in the ordinal, so neither happens.

use crate::rating::{PlackettLuce, Rating};
use std::collections::BTreeMap;

/// What the validator concluded about one miner in one window.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Fetched, verified, decoded and evaluated.
    Evaluated {
        /// `(L_rand_before − L_rand_after) / L_rand_before`.
        loss_score: f64,
        /// +1 if the update helped its own rows more than random rows, else −1.
        indicator: i8,
        /// How far behind the validator's model the artifact's base is, in manifests
        /// (`None`: not on the validator's chain at all).
        behind: Option<u32>,
    },
    /// Valid but not evaluated this window (time ran out); nothing changes.
    NotEvaluated,
    /// No commitment for the window.
    Missing,
    /// Committed after the deadline.
    Late,
    /// The bytes do not hash to the committed digest.
    HashMismatch,
    /// Larger than the limit or than committed.
    TooLarge,
    /// Malformed or unusable (the decoder's or the content check's reason).
    Invalid(String),
    /// Repeats an earlier commitment of `original`.
    Copy {
        /// The earlier miner.
        original: u16,
        /// 1.0 identical bytes, else the index overlap.
        overlap: f64,
    },
    /// The artifact could not be fetched for a reason on the validator's side (storage down):
    /// recorded, never penalized.
    Infrastructure(String),
}

impl Verdict {
    /// Every verdict's [`Verdict::name`].
    pub const NAMES: [&'static str; 9] = [
        "evaluated",
        "not_evaluated",
        "missing",
        "late",
        "hash_mismatch",
        "too_large",
        "invalid",
        "copy",
        "infrastructure",
    ];

    /// A short name for rows and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Evaluated { .. } => "evaluated",
            Verdict::NotEvaluated => "not_evaluated",
            Verdict::Missing => "missing",
            Verdict::Late => "late",
            Verdict::HashMismatch => "hash_mismatch",
            Verdict::TooLarge => "too_large",
            Verdict::Invalid(_) => "invalid",
            Verdict::Copy { .. } => "copy",
            Verdict::Infrastructure(_) => "infrastructure",
        }
    }
}

/// The scoring constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreParams {
    /// Weight of the newest indicator in the BMA.
    pub bma_alpha: f64,
    /// Factor for the 1st, 2nd and 3rd+ consecutive missed (missing or late) window.
    pub miss_factors: [f64; 3],
    /// Sync factor `max(0, 1 − behind/sync_max_behind)^2.5`.
    pub sync_max_behind: f64,
    /// The rating model.
    pub rating: PlackettLuce,
}

impl Default for ScoreParams {
    fn default() -> Self {
        ScoreParams {
            bma_alpha: 0.05,
            miss_factors: [0.75, 0.5, 0.0],
            sync_max_behind: 3.0,
            rating: PlackettLuce::default(),
        }
    }
}

/// A miner's lasting standing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    /// Skill over loss scores.
    pub rating: Rating,
    /// Binary moving average of the assigned-data indicator.
    pub bma: f64,
    /// Sync factor of its last evaluated artifact.
    pub sync: f64,
    /// Consecutive missed windows.
    pub misses: u32,
}

impl Default for Standing {
    fn default() -> Self {
        Standing {
            rating: Rating::default(),
            bma: 0.0,
            sync: 1.0,
            misses: 0,
        }
    }
}

/// A penalty: a factor below 1 and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Penalty {
    /// The verdict or rule that applied it.
    pub reason: String,
    /// Multiplier on the window's final score.
    pub factor: f64,
}

/// One miner's result for the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The miner.
    pub uid: u16,
    /// Its standing after the window.
    pub standing: Standing,
    /// Penalties applied this window.
    pub penalties: Vec<Penalty>,
    /// The final score.
    pub final_score: f64,
}

/// Score sent in the rating match by a miner whose artifact is unusable.
pub const FAILED_MATCH_SCORE: f64 = -99.0;

/// `max(0, 1 − behind/max)^2.5`; a base off the validator's chain is 0.
pub fn sync_factor(behind: Option<u32>, max_behind: f64) -> f64 {
    match behind {
        Some(b) => (1.0 - f64::from(b) / max_behind).max(0.0).powf(2.5),
        None => 0.0,
    }
}

/// Applies a window's verdicts to `standings` (miners absent from it start fresh) and returns
/// each miner's result in uid order.
pub fn score_window(
    standings: &BTreeMap<u16, Standing>,
    verdicts: &BTreeMap<u16, Verdict>,
    p: &ScoreParams,
) -> Vec<Scored> {
    // The rating match: evaluated miners by loss score, unusable artifacts last.
    let mut match_uids = Vec::new();
    let mut match_scores = Vec::new();
    for (&uid, v) in verdicts {
        let score = match v {
            Verdict::Evaluated { loss_score, .. } => *loss_score,
            Verdict::HashMismatch
            | Verdict::TooLarge
            | Verdict::Invalid(_)
            | Verdict::Copy { .. } => FAILED_MATCH_SCORE,
            _ => continue,
        };
        match_uids.push(uid);
        match_scores.push(score);
    }
    let priors: Vec<Rating> = match_uids
        .iter()
        .map(|u| standings.get(u).copied().unwrap_or_default().rating)
        .collect();
    let rated: BTreeMap<u16, Rating> = match_uids
        .iter()
        .copied()
        .zip(p.rating.rate(&priors, &match_scores))
        .collect();

    verdicts
        .iter()
        .map(|(&uid, v)| {
            let mut s = standings.get(&uid).copied().unwrap_or_default();
            if let Some(r) = rated.get(&uid) {
                s.rating = *r;
            }
            let mut penalties = Vec::new();
            let bma_step = |s: &mut Standing, indicator: f64| {
                s.bma = (1.0 - p.bma_alpha) * s.bma + p.bma_alpha * indicator;
            };
            match v {
                Verdict::Evaluated {
                    indicator, behind, ..
                } => {
                    bma_step(&mut s, f64::from(*indicator));
                    s.sync = sync_factor(*behind, p.sync_max_behind);
                    s.misses = 0;
                    if s.sync < 1.0 {
                        penalties.push(Penalty {
                            reason: match behind {
                                Some(b) => format!("stale base model: {b} manifests behind"),
                                None => "base model not on the validator's chain".into(),
                            },
                            factor: s.sync,
                        });
                    }
                    // The BMA clamp: an update that helps its own rows no more than random
                    // ones, on average, is not trained on the assignment.
                    if s.bma <= 0.0 {
                        penalties.push(Penalty {
                            reason: format!(
                                "assigned-data check failed: BMA {:.3} <= 0 (not trained on \
                                 its assigned rows)",
                                s.bma
                            ),
                            factor: 0.0,
                        });
                    }
                }
                Verdict::Missing | Verdict::Late => {
                    s.misses = s.misses.saturating_add(1);
                    let i = (s.misses as usize - 1).min(p.miss_factors.len() - 1);
                    penalties.push(Penalty {
                        reason: format!("{} (consecutive miss {})", v.name(), s.misses),
                        factor: p.miss_factors[i],
                    });
                }
                Verdict::HashMismatch | Verdict::TooLarge | Verdict::Invalid(_) => {
                    bma_step(&mut s, -1.0);
                    penalties.push(Penalty {
                        reason: match v {
                            Verdict::Invalid(why) => format!("invalid: {why}"),
                            other => other.name().into(),
                        },
                        factor: 0.0,
                    });
                }
                Verdict::Copy { original, overlap } => {
                    bma_step(&mut s, -1.0);
                    penalties.push(Penalty {
                        reason: format!("copy of uid {original} (overlap {overlap:.3})"),
                        factor: 0.0,
                    });
                }
                Verdict::NotEvaluated | Verdict::Infrastructure(_) => {}
            }
            // The sync row records a factor that is already in `s.sync`.
            let multiplier: f64 = match v {
                Verdict::Evaluated { .. } => 1.0,
                _ => penalties.iter().map(|x| x.factor).product(),
            };
            let skill = (s.rating.ordinal() / p.rating.beta).exp();
            let final_score = skill * s.bma.max(0.0) * s.sync * multiplier;
            Scored {
                uid,
                standing: s,
                penalties,
                final_score,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Verdict;

    #[test]
    fn names_lists_every_verdict_once() {
        let every = [
            Verdict::Evaluated {
                loss_score: 0.0,
                indicator: 1,
                behind: None,
            },
            Verdict::NotEvaluated,
            Verdict::Missing,
            Verdict::Late,
            Verdict::HashMismatch,
            Verdict::TooLarge,
            Verdict::Invalid(String::new()),
            Verdict::Copy {
                original: 0,
                overlap: 1.0,
            },
            Verdict::Infrastructure(String::new()),
        ];
        // No wildcard: a new verdict does not compile until it is listed above.
        for v in &every {
            match v {
                Verdict::Evaluated { .. }
                | Verdict::NotEvaluated
                | Verdict::Missing
                | Verdict::Late
                | Verdict::HashMismatch
                | Verdict::TooLarge
                | Verdict::Invalid(_)
                | Verdict::Copy { .. }
                | Verdict::Infrastructure(_) => {}
            }
        }
        let names: Vec<&str> = every.iter().map(Verdict::name).collect();
        assert_eq!(names, Verdict::NAMES);
    }
}
