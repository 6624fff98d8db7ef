//! Checks on decoded artifacts that need no model: who the artifact says it is, whether its
//! values are usable, and whether two miners sent the same (or nearly the same) update. Pure.

use kiln_protocol::{Artifact, Digest};

/// What an artifact must name to count for `(netuid, uid, hotkey, window)` of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// The subnet.
    pub netuid: u16,
    /// The committing miner's uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: [u8; 32],
    /// The window of the commitment.
    pub window: u64,
    /// The run's hparams hash.
    pub hparams_hash: Digest,
}

/// Largest magnitude a quantized value may have; anything above is an attack on the model, not
/// a pseudo-gradient (the aggregate's norm clip would hide it, the evaluation would not).
pub const MAX_ABS_VALUE: f32 = 1e4;

/// Why a decoded artifact is rejected. The text goes into the penalty row.
pub fn content_problem(a: &Artifact, e: &Expected) -> Option<String> {
    let h = &a.header;
    if h.netuid != e.netuid {
        return Some(format!("names subnet {}, not {}", h.netuid, e.netuid));
    }
    if h.uid != e.uid {
        return Some(format!("names uid {}, committed by uid {}", h.uid, e.uid));
    }
    if h.hotkey != e.hotkey {
        return Some("names another hotkey than the committer's".into());
    }
    if h.window != e.window {
        return Some(format!(
            "names window {}, committed for {}",
            h.window, e.window
        ));
    }
    if h.hparams_hash != e.hparams_hash {
        return Some("names another hparams hash than the run's".into());
    }
    let mut any_nonzero = false;
    for t in &a.tensors {
        for &v in t.codebook.levels() {
            if !v.is_finite() {
                return Some(format!("tensor {:?} has a non-finite value", t.name));
            }
            if v.abs() > MAX_ABS_VALUE {
                return Some(format!(
                    "tensor {:?} has a value of magnitude {} (limit {MAX_ABS_VALUE})",
                    t.name,
                    v.abs()
                ));
            }
        }
        any_nonzero |= t.norm() > 0.0;
    }
    if !any_nonzero {
        return Some("the update is all zeros".into());
    }
    None
}

/// Fraction of kept positions two messages share: per chunk `|A ∩ B| / k`, averaged over all
/// chunks of all tensors weighted by chunk count. `None` when the tensors do not line up.
/// Indices are ascending within each chunk, so each chunk is one merge: O(chunks · k).
pub fn index_overlap(a: &Artifact, b: &Artifact) -> Option<f64> {
    if a.tensors.len() != b.tensors.len() {
        return None;
    }
    let (mut shared, mut total) = (0u64, 0u64);
    for (x, y) in a.tensors.iter().zip(&b.tensors) {
        if x.name != y.name || x.geometry != y.geometry {
            return None;
        }
        let k = x.geometry.k();
        if k == 0 {
            continue;
        }
        for (cx, cy) in x.indices.chunks_exact(k).zip(y.indices.chunks_exact(k)) {
            let (mut i, mut j) = (0, 0);
            while i < k && j < k {
                match cx[i].cmp(&cy[j]) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        shared += 1;
                        i += 1;
                        j += 1;
                    }
                }
            }
            total += k as u64;
        }
    }
    (total > 0).then(|| shared as f64 / total as f64)
}

/// Index overlap from which a later commitment counts as a copy (Templar's threshold).
/// Independent honest updates of the tiny preset share about 0.11 (`tests/evaluate.rs`), and
/// 0.105–0.142 on a running subnet from its first window on (`docs/validator.md`).
pub const DEFAULT_OVERLAP_THRESHOLD: f64 = 0.4;

/// A submission as the copy checks see it: who, when (on-chain order) and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// The miner.
    pub uid: u16,
    /// The block that included its commitment.
    pub block: u64,
    /// The artifact's blake3.
    pub digest: Digest,
}

/// Who copied whom: `(later, earlier)` pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Copied {
    /// The later commitment (penalized).
    pub uid: u16,
    /// The earlier one it repeats.
    pub original: u16,
    /// 1.0 for identical bytes, else the index overlap.
    pub overlap: f64,
}

/// On-chain order: earlier block first, then lower uid (two commitments in one block).
fn earlier(a: &Sent, b: &Sent) -> bool {
    (a.block, a.uid) < (b.block, b.uid)
}

/// Every later commitment that repeats an earlier one: identical digests always; otherwise an
/// index overlap of at least `threshold` (given by `overlap(i, j)` for positions in `sent`).
/// Each offender is reported once, against its earliest original.
pub fn copies(
    sent: &[Sent],
    threshold: f64,
    mut overlap: impl FnMut(usize, usize) -> Option<f64>,
) -> Vec<Copied> {
    let mut order: Vec<usize> = (0..sent.len()).collect();
    order.sort_by_key(|&i| (sent[i].block, sent[i].uid));
    let mut out = Vec::new();
    for (pos, &later) in order.iter().enumerate() {
        for &first in &order[..pos] {
            debug_assert!(earlier(&sent[first], &sent[later]));
            let o = if sent[first].digest == sent[later].digest {
                Some(1.0)
            } else {
                overlap(first, later).filter(|&o| o >= threshold)
            };
            if let Some(o) = o {
                out.push(Copied {
                    uid: sent[later].uid,
                    original: sent[first].uid,
                    overlap: o,
                });
                break;
            }
        }
    }
    out
}
