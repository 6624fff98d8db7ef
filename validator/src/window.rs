//! The decisions of one window, phase by phase, as pure functions: which commitments count
//! (Collect), what fetched bytes are worth (Fetch), who copied whom, who is evaluated and in
//! which order (Evaluate), the window's record (Score/Persist), the weight vector (Weights) and
//! the aggregation set (Aggregate). The async shell feeds them chain reads, bytes and
//! measurements and performs what they return.

use crate::checks::{self, Expected, Sent};
use crate::score::Verdict;
use kiln_protocol::artifact::{Artifact, DecodeOptions};
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::{Digest, WindowClock};
use std::collections::BTreeMap;

/// A miner's commitment for the window, as the Collect phase found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// No commitment for this window.
    Missing,
    /// Committed outside the window's acceptance range (after the deadline, or before the
    /// window began).
    OutOfWindow {
        /// The including block.
        block: u64,
        /// The commitment.
        commitment: Commitment,
    },
    /// A commitment that counts.
    Committed {
        /// The including block (on-chain order).
        block: u64,
        /// The commitment.
        commitment: Commitment,
    },
}

/// What the chain says about a hotkey's current commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The miner.
    pub uid: u16,
    /// Block the value was set at.
    pub block: u64,
    /// The parsed kiln commitment.
    pub commitment: Commitment,
}

/// Collect: every uid's submission for `window`, from the commitments posted by its hotkey
/// (artifact commitments only; a commitment for another window means nothing was sent for
/// this one).
pub fn collect(
    clock: &WindowClock,
    window: u64,
    uids: &[u16],
    posted: &[Posted],
) -> BTreeMap<u16, Submission> {
    let by_uid: BTreeMap<u16, &Posted> = posted
        .iter()
        .filter(|p| p.commitment.kind == CommitmentKind::Artifact)
        .map(|p| (p.uid, p))
        .collect();
    uids.iter()
        .map(|&uid| {
            let s = match by_uid.get(&uid) {
                Some(p) if p.commitment.window == window => {
                    if clock.accepts(p.block, window) {
                        Submission::Committed {
                            block: p.block,
                            commitment: p.commitment.clone(),
                        }
                    } else {
                        Submission::OutOfWindow {
                            block: p.block,
                            commitment: p.commitment.clone(),
                        }
                    }
                }
                _ => Submission::Missing,
            };
            (uid, s)
        })
        .collect()
}

/// How a download ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// The bytes.
    Bytes(Vec<u8>),
    /// The store has no such object.
    NotFound,
    /// The object is larger than the limit (not read).
    TooLarge(u64),
    /// The store could not be reached (the validator's side).
    Unreachable(String),
}

/// Fetch: the verdict on a committed artifact's bytes, or the decoded artifact when it is
/// usable. `expected` names the committer; `max_len` bounds the decoder.
pub fn judge_bytes(
    commitment: &Commitment,
    download: Download,
    expected: &Expected,
    options: &DecodeOptions,
) -> Result<Artifact, Verdict> {
    let bytes = match download {
        Download::Bytes(b) => b,
        Download::NotFound => return Err(Verdict::Missing),
        Download::TooLarge(_) => return Err(Verdict::TooLarge),
        Download::Unreachable(why) => return Err(Verdict::Infrastructure(why)),
    };
    if bytes.len() > options.max_len {
        return Err(Verdict::TooLarge);
    }
    if *blake3::hash(&bytes).as_bytes() != commitment.digest
        || bytes.len() as u64 != commitment.byte_len
    {
        return Err(Verdict::HashMismatch);
    }
    let artifact =
        Artifact::decode(&bytes, options).map_err(|e| Verdict::Invalid(e.to_string()))?;
    match checks::content_problem(&artifact, expected) {
        Some(why) => Err(Verdict::Invalid(why)),
        None => Ok(artifact),
    }
}

/// The copy checks over the window's usable artifacts: later commitments that repeat an
/// earlier one (identical digest, or index overlap ≥ `threshold`) get a [`Verdict::Copy`].
pub fn find_copies(
    usable: &BTreeMap<u16, (u64, Digest, Artifact)>,
    threshold: f64,
) -> BTreeMap<u16, Verdict> {
    let entries: Vec<(&u16, &(u64, Digest, Artifact))> = usable.iter().collect();
    let sent: Vec<Sent> = entries
        .iter()
        .map(|(uid, (block, digest, _))| Sent {
            uid: **uid,
            block: *block,
            digest: *digest,
        })
        .collect();
    checks::copies(&sent, threshold, |i, j| {
        checks::index_overlap(&entries[i].1.2, &entries[j].1.2)
    })
    .into_iter()
    .map(|c| {
        (
            c.uid,
            Verdict::Copy {
                original: c.original,
                overlap: c.overlap,
            },
        )
    })
    .collect()
}

/// Evaluate: the order in which usable miners are evaluated while time lasts — the longest
/// unevaluated first (`last_evaluated[uid]`, never evaluated counts as oldest), then by uid — so
/// every miner is evaluated in turn when a window cannot hold them all.
pub fn evaluation_order(candidates: &[u16], last_evaluated: &BTreeMap<u16, u64>) -> Vec<u16> {
    let mut order = candidates.to_vec();
    order.sort_by_key(|uid| (last_evaluated.get(uid).map_or(0, |w| w + 1), *uid));
    order
}

/// Weights: whether `window` is a weight-setting window.
pub fn sets_weights(window: u64, windows_per_weights: u64) -> bool {
    window.is_multiple_of(windows_per_weights.max(1))
}

/// Aggregate: the included set — the given miners with a positive score (the machine passes loss
/// scores of updates evaluated on the current model), best first, at most `max_peers`, returned
/// in uid order (the manifest's order).
pub fn aggregation_set(scores: &[(u16, f64)], max_peers: usize) -> Vec<u16> {
    let mut ranked: Vec<(u16, f64)> = scores
        .iter()
        .copied()
        .filter(|(_, s)| s.is_finite() && *s > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(max_peers);
    let mut uids: Vec<u16> = ranked.into_iter().map(|(u, _)| u).collect();
    uids.sort_unstable();
    uids
}

/// Start-up: the window to score first. The one after `last_scored`, unless more than
/// `max_behind` windows have closed since (a long downtime: their chain state may be pruned and
/// their evaluations would come too late to matter), then the oldest of the last `max_behind`.
/// A fresh database starts at the current window.
pub fn resume_at(last_scored: Option<u64>, current: u64, max_behind: u64) -> u64 {
    match last_scored {
        None => current,
        Some(w) => (w + 1).max(current.saturating_sub(max_behind)),
    }
}
