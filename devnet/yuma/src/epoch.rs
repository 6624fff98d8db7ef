//! One Yuma epoch (subtensor's sparse `epoch` with Yuma 2 bonds and the bonds penalty): from the
//! subnet's stake, weights, bonds and activity to consensus, incentive, dividends, emission and the
//! bonds and permits to store.

use crate::math::*;
use substrate_fixed::types::{I32F32, I64F64, I96F32};
use thiserror::Error;

/// The subnet hyperparameters the epoch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Blocks per epoch.
    pub tempo: u16,
    /// Consensus majority as a u16 proportion (default 32767 ≈ 0.5).
    pub kappa: u16,
    /// How far weights above consensus are clipped for bonds (u16 proportion; 65535 = fully).
    pub bonds_penalty: u16,
    /// Bonds EMA retention in millionths (default 900,000: α = 0.1).
    pub bonds_moving_average: u64,
    /// Validator permits go to the top this many stakes.
    pub max_allowed_validators: u16,
    /// A uid is inactive when its last weight update is more than this many blocks old.
    pub activity_cutoff: u64,
    /// Raw stake below this counts as zero (except the owner's).
    pub stake_threshold: u64,
}

impl Default for Params {
    /// subtensor's defaults (as in its test mock).
    fn default() -> Self {
        Self {
            tempo: 360,
            kappa: 32_767,
            bonds_penalty: u16::MAX,
            bonds_moving_average: 900_000,
            max_allowed_validators: 100,
            activity_cutoff: 5_000,
            stake_threshold: 0,
        }
    }
}

/// The state one epoch reads. Every per-uid slice has one entry per uid `0..n`.
#[derive(Debug, Clone, Copy)]
pub struct EpochInput<'a> {
    /// The current block.
    pub block: u64,
    /// Hyperparameters.
    pub params: Params,
    /// Each uid's stake weight in raw units (alpha, plus TAO × tao-weight where applicable).
    pub stake: &'a [u64],
    /// Block of each uid's last weight update.
    pub last_update: &'a [u64],
    /// Block each uid (re)registered at.
    pub block_at_registration: &'a [u64],
    /// Validator permits stored by the previous epoch.
    pub validator_permit: &'a [bool],
    /// Stored weights: per uid, `(uid, u16 weight)`.
    pub weights: &'a [Vec<(u16, u16)>],
    /// Stored bonds: per uid, `(uid, u16 bond)`.
    pub bonds: &'a [Vec<(u16, u16)>],
    /// The subnet owner's uid: always permitted, may weight itself, exempt from the threshold.
    pub owner: Option<u16>,
    /// Block of the previous epoch of this mechanism, if any (bonds of uids registered after it
    /// are reset); without it, `block − tempo` is used.
    pub last_epoch_block: Option<u64>,
    /// With commit-reveal on: per uid the earliest block of its pending commits (`u64::MAX`
    /// when none); weights committed before a uid registered are dropped.
    pub commit_blocks: Option<&'a [u64]>,
    /// Emission to distribute this epoch (rao).
    pub emission: u64,
}

/// Why an epoch cannot run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EpochError {
    /// A per-uid input has the wrong length.
    #[error("{field} has {got} entries for {n} uids")]
    Length {
        /// The input.
        field: &'static str,
        /// Its length.
        got: usize,
        /// Uids in the subnet.
        n: usize,
    },
    /// More uids than u16 can index.
    #[error("{0} uids exceed 65535")]
    TooManyUids(usize),
}

/// Everything an epoch produces, per uid. u16 values are proportions × 65535, floored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochOutput {
    /// Active this epoch (updated weights within the activity cutoff).
    pub active: Vec<bool>,
    /// Normalized stake.
    pub stake_weight: Vec<u16>,
    /// Stake-weighted median weight each uid received.
    pub consensus: Vec<u16>,
    /// Normalized consensus-clipped rank (equals incentive).
    pub rank: Vec<u16>,
    /// Clipped rank ÷ unclipped rank.
    pub trust: Vec<u16>,
    /// Miner share.
    pub incentive: Vec<u16>,
    /// Validator share.
    pub dividends: Vec<u16>,
    /// Sum of each validator's clipped weights.
    pub validator_trust: Vec<u16>,
    /// Permits to store (used by the next epoch).
    pub validator_permit: Vec<bool>,
    /// Bonds to store: new rows for permitted uids, empty rows for uids that lost their permit,
    /// the input rows otherwise.
    pub bonds: Vec<Vec<(u16, u16)>>,
    /// Pruning scores (normalized combined emission, max-upscaled, rounded).
    pub pruning_scores: Vec<u16>,
    /// Emission paid as incentive (rao).
    pub server_emission: Vec<u64>,
    /// Emission paid as dividends (rao).
    pub validator_emission: Vec<u64>,
    /// Total emission per uid (rao), what subtensor stores as `Emission`.
    pub emission: Vec<u64>,
}

/// Runs one epoch.
pub fn epoch(input: &EpochInput<'_>) -> Result<EpochOutput, EpochError> {
    let n = input.stake.len();
    if n > usize::from(u16::MAX) {
        return Err(EpochError::TooManyUids(n));
    }
    let lengths = [
        ("last_update", input.last_update.len()),
        ("block_at_registration", input.block_at_registration.len()),
        ("validator_permit", input.validator_permit.len()),
        ("weights", input.weights.len()),
        ("bonds", input.bonds.len()),
        ("commit_blocks", input.commit_blocks.map_or(n, <[u64]>::len)),
    ];
    for (field, got) in lengths {
        if got != n {
            return Err(EpochError::Length { field, got, n });
        }
    }
    let cols = n as u16;
    let p = input.params;
    let zero = I32F32::from_num(0);
    let is_owner = |i: usize| input.owner == Some(i as u16);
    let reg = input.block_at_registration;

    // Activity.
    let cutoff = p.activity_cutoff;
    let active: Vec<bool> = input
        .last_update
        .iter()
        .map(|&lu| lu.saturating_add(cutoff) >= input.block)
        .collect();

    // Stake.
    let mut stake64: Vec<I64F64> = input
        .stake
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            if !is_owner(i) && s < p.stake_threshold {
                I64F64::from_num(0)
            } else {
                I64F64::from_num(s)
            }
        })
        .collect();
    normalize_64(&mut stake64);
    let stake = to_fixed32(&stake64);

    // Permits: the stored ones gate this epoch, the new ones are stored for the next.
    let mut permit = input.validator_permit.to_vec();
    let mut new_permit = is_topk_nonzero(&stake, usize::from(p.max_allowed_validators));
    if let Some(o) = input.owner.map(usize::from).filter(|&o| o < n) {
        permit[o] = true;
        new_permit[o] = true;
    }
    let mut active_stake: Vec<I32F32> = (0..n)
        .map(|i| {
            if active[i] && permit[i] {
                stake[i]
            } else {
                zero
            }
        })
        .collect();
    normalize(&mut active_stake);

    // Weights.
    let mut weights: SparseMatrix = (0..n)
        .map(|i| {
            if !permit[i] {
                return Vec::new();
            }
            input.weights[i]
                .iter()
                .filter(|&&(j, _)| usize::from(j) < n)
                .filter(|&&(j, _)| usize::from(j) != i || is_owner(i))
                .filter(|&&(j, _)| input.last_update[i] > reg[usize::from(j)])
                .filter(|&&(j, _)| {
                    input
                        .commit_blocks
                        .is_none_or(|cb| cb[i] >= reg[usize::from(j)])
                })
                .map(|&(j, w)| (j, I32F32::from_num(w)))
                .collect()
        })
        .collect();
    row_normalize_sparse(&mut weights);

    // Consensus, clipping, incentive.
    let preranks = matmul_sparse(&weights, &active_stake, cols);
    let kappa = u16_proportion_to_fixed(p.kappa);
    let consensus = weighted_median_col_sparse(&active_stake, &weights, cols, kappa);
    let clipped = col_clip_sparse(&weights, &consensus);
    let validator_trust = row_sum_sparse(&clipped);
    let ranks = matmul_sparse(&clipped, &active_stake, cols);
    let trust = vecdiv(&ranks, &preranks);
    let mut incentive = ranks.clone();
    normalize(&mut incentive);

    // Bonds (Yuma 2).
    let penalty = u16_proportion_to_fixed(p.bonds_penalty);
    let for_bonds = interpolate_sparse(&weights, &clipped, cols, penalty);
    let last_tempo = input
        .last_epoch_block
        .map_or(input.block.saturating_sub(u64::from(p.tempo)), |b| {
            b.saturating_add(1)
        });
    let mut bonds: SparseMatrix = input
        .bonds
        .iter()
        .map(|row| {
            row.iter()
                .filter(|&&(j, _)| usize::from(j) < n && last_tempo > reg[usize::from(j)])
                .map(|&(j, b)| (j, I32F32::from_num(b)))
                .collect()
        })
        .collect();
    col_normalize_sparse(&mut bonds, cols);
    let mut delta = row_hadamard_sparse(&for_bonds, &active_stake);
    col_normalize_sparse(&mut delta, cols);
    let retention = I64F64::from_num(p.bonds_moving_average) / I64F64::from_num(1_000_000);
    let alpha = I32F32::from_num(1).saturating_sub(I32F32::saturating_from_num(retention));
    let mut ema = mat_ema_sparse(&delta, &bonds, alpha, cols);
    col_normalize_sparse(&mut ema, cols);
    let mut dividends = matvec_sparse(&ema, &incentive);
    normalize(&mut dividends);

    // Emission.
    let combined: Vec<I32F32> = incentive
        .iter()
        .zip(&dividends)
        .map(|(&a, &b)| a.saturating_add(b))
        .collect();
    let total = sum(&combined);
    let (server, validator, combined) = if total == zero {
        let fallback = if sum(&active_stake) != zero {
            active_stake.clone()
        } else {
            stake.clone()
        };
        (vec![zero; n], fallback.clone(), fallback)
    } else {
        let mut c = combined;
        let server = incentive.iter().map(|&x| safe_div(x, total)).collect();
        let validator = dividends.iter().map(|&x| safe_div(x, total)).collect();
        normalize(&mut c);
        (server, validator, c)
    };
    let rao = |v: &[I32F32]| -> Vec<u64> {
        let e = I96F32::saturating_from_num(input.emission);
        v.iter()
            .map(|&x| {
                I96F32::saturating_from_num(x)
                    .saturating_mul(e)
                    .saturating_to_num::<u64>()
            })
            .collect()
    };

    // Bonds to store.
    col_max_upscale_sparse(&mut ema, cols);
    let stored_bonds = (0..n)
        .map(|i| {
            if new_permit[i] {
                ema[i]
                    .iter()
                    .map(|&(j, v)| (j, fixed_proportion_to_u16(v)))
                    .collect()
            } else if permit[i] {
                Vec::new()
            } else {
                input.bonds[i].clone()
            }
        })
        .collect();

    let u16s =
        |v: &[I32F32]| -> Vec<u16> { v.iter().map(|&x| fixed_proportion_to_u16(x)).collect() };
    Ok(EpochOutput {
        active,
        stake_weight: u16s(&stake),
        consensus: u16s(&consensus),
        rank: u16s(&incentive),
        trust: u16s(&trust),
        incentive: u16s(&incentive),
        dividends: u16s(&dividends),
        validator_trust: u16s(&validator_trust),
        validator_permit: new_permit,
        bonds: stored_bonds,
        pruning_scores: vec_max_upscale_to_u16(&combined),
        server_emission: rao(&server),
        validator_emission: rao(&validator),
        emission: rao(&combined),
    })
}
