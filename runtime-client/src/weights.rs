//! Weight vectors, checked before they are sent: float scores become the u16 vector the chain
//! stores, and every rule subtensor applies to `set_weights` is applied here first, in the
//! chain's order and under the chain's error names, so a transaction the chain would reject is
//! never signed. Pure: the chain state comes in as a [`WeightsContext`].

use codec::Encode;
use thiserror::Error;

/// Why a weight vector would be rejected; each variant is named as subtensor's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum WeightsRejection {
    /// Weights on the root network are not set this way.
    #[error("CanNotSetRootNetworkWeights")]
    CanNotSetRootNetworkWeights,
    /// `uids` and `values` differ in length.
    #[error("WeightVecNotEqualSize")]
    WeightVecNotEqualSize,
    /// The subnet does not exist.
    #[error("SubnetNotExists")]
    SubnetNotExists,
    /// More entries than uids on the subnet.
    #[error("UidsLengthExceedUidsInSubNet")]
    UidsLengthExceedUidsInSubNet,
    /// The hotkey is not registered on the subnet.
    #[error("HotKeyNotRegisteredInSubNet")]
    HotKeyNotRegisteredInSubNet,
    /// Stake below the chain's threshold.
    #[error("NotEnoughStakeToSetWeights")]
    NotEnoughStakeToSetWeights,
    /// The version key is below the subnet's.
    #[error("IncorrectWeightVersionKey")]
    IncorrectWeightVersionKey,
    /// Within the weights rate limit.
    #[error("SettingWeightsTooFast")]
    SettingWeightsTooFast,
    /// Not a validator (and not a self-weight or the owner).
    #[error("NeuronNoValidatorPermit")]
    NeuronNoValidatorPermit,
    /// A uid appears twice.
    #[error("DuplicateUids")]
    DuplicateUids,
    /// A uid is not on the subnet.
    #[error("UidVecContainInvalidOne")]
    UidVecContainInvalidOne,
    /// Fewer entries than the subnet's minimum.
    #[error("WeightVecLengthIsLow")]
    WeightVecLengthIsLow,
    /// One weight exceeds the subnet's maximum share.
    #[error("MaxWeightExceeded")]
    MaxWeightExceeded,
    /// Plain weights on a commit-reveal subnet.
    #[error("CommitRevealEnabled")]
    CommitRevealEnabled,
    /// A commit on a subnet without commit-reveal.
    #[error("CommitRevealDisabled")]
    CommitRevealDisabled,
    /// Within the rate limit, for a commit.
    #[error("CommittingWeightsTooFast")]
    CommittingWeightsTooFast,
    /// A timelocked commit of another version than the chain's `CommitRevealWeightsVersion`.
    #[error("IncorrectCommitRevealVersion")]
    IncorrectCommitRevealVersion,
    /// The hotkey already has 10 timelocked commits in this epoch.
    #[error("TooManyUnrevealedCommits")]
    TooManyUnrevealedCommits,
}

impl WeightsRejection {
    /// The chain's error name (`SubtensorModule::<name>`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::CanNotSetRootNetworkWeights => "CanNotSetRootNetworkWeights",
            Self::WeightVecNotEqualSize => "WeightVecNotEqualSize",
            Self::SubnetNotExists => "SubnetNotExists",
            Self::UidsLengthExceedUidsInSubNet => "UidsLengthExceedUidsInSubNet",
            Self::HotKeyNotRegisteredInSubNet => "HotKeyNotRegisteredInSubNet",
            Self::NotEnoughStakeToSetWeights => "NotEnoughStakeToSetWeights",
            Self::IncorrectWeightVersionKey => "IncorrectWeightVersionKey",
            Self::SettingWeightsTooFast => "SettingWeightsTooFast",
            Self::NeuronNoValidatorPermit => "NeuronNoValidatorPermit",
            Self::DuplicateUids => "DuplicateUids",
            Self::UidVecContainInvalidOne => "UidVecContainInvalidOne",
            Self::WeightVecLengthIsLow => "WeightVecLengthIsLow",
            Self::MaxWeightExceeded => "MaxWeightExceeded",
            Self::CommitRevealEnabled => "CommitRevealEnabled",
            Self::CommitRevealDisabled => "CommitRevealDisabled",
            Self::CommittingWeightsTooFast => "CommittingWeightsTooFast",
            Self::IncorrectCommitRevealVersion => "IncorrectCommitRevealVersion",
            Self::TooManyUnrevealedCommits => "TooManyUnrevealedCommits",
        }
    }
}

/// What the chain knows that decides whether a weight vector is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsContext {
    /// The subnet.
    pub netuid: u16,
    /// Whether it exists.
    pub subnet_exists: bool,
    /// Its number of uids (`SubnetworkN`).
    pub n: u16,
    /// The signing hotkey's uid, if registered.
    pub uid: Option<u16>,
    /// Whether the hotkey is the subnet owner's hotkey (exempt from stake and permit checks).
    pub is_owner_hotkey: bool,
    /// The hotkey's stake on the subnet, in rao.
    pub stake: u64,
    /// The chain's `StakeThreshold`.
    pub stake_threshold: u64,
    /// The subnet's `WeightsVersionKey` (0: any).
    pub required_version_key: u64,
    /// The subnet's `WeightsSetRateLimit`, in blocks.
    pub rate_limit: u64,
    /// The hotkey's `LastUpdate` block (0: never).
    pub last_update: u64,
    /// The block the transaction will be checked at (the next block).
    pub block: u64,
    /// Whether the hotkey holds a validator permit.
    pub permit: bool,
    /// The subnet's `MinAllowedWeights`.
    pub min_allowed_weights: u16,
    /// The subnet's `MaxWeightsLimit` (65535: no limit).
    pub max_weights_limit: u16,
    /// Whether the subnet requires commit-reveal.
    pub commit_reveal: bool,
}

/// The operation a vector is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsCall {
    /// `set_weights`: plain weights, rate-limited, refused on a commit-reveal subnet.
    Set,
    /// `reveal_weights`: every check but the rate limit.
    Reveal,
}

/// Checks `uids`/`values` the way subtensor's `set_weights` does, in the same order, and returns
/// the vector as the chain will store it (max-upscaled so the largest entry is 65535).
pub fn check(
    ctx: &WeightsContext,
    call: WeightsCall,
    uids: &[u16],
    values: &[u16],
    version_key: u64,
) -> Result<Vec<u16>, WeightsRejection> {
    use WeightsRejection as R;
    if call == WeightsCall::Set && ctx.commit_reveal {
        return Err(R::CommitRevealEnabled);
    }
    if ctx.netuid == 0 {
        return Err(R::CanNotSetRootNetworkWeights);
    }
    if uids.len() != values.len() {
        return Err(R::WeightVecNotEqualSize);
    }
    if !ctx.subnet_exists {
        return Err(R::SubnetNotExists);
    }
    if uids.len() > usize::from(ctx.n) {
        return Err(R::UidsLengthExceedUidsInSubNet);
    }
    let uid = ctx.uid.ok_or(R::HotKeyNotRegisteredInSubNet)?;
    if !ctx.is_owner_hotkey && ctx.stake < ctx.stake_threshold {
        return Err(R::NotEnoughStakeToSetWeights);
    }
    if ctx.required_version_key != 0 && version_key < ctx.required_version_key {
        return Err(R::IncorrectWeightVersionKey);
    }
    if call == WeightsCall::Set && !rate_limit_passed(ctx) {
        return Err(R::SettingWeightsTooFast);
    }
    let self_weight = uids.len() == 1 && uids[0] == uid;
    if !(self_weight || ctx.is_owner_hotkey || ctx.permit) {
        return Err(R::NeuronNoValidatorPermit);
    }
    let mut seen = uids.to_vec();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != uids.len() {
        return Err(R::DuplicateUids);
    }
    if uids.iter().any(|&u| u >= ctx.n) {
        return Err(R::UidVecContainInvalidOne);
    }
    let min = ctx.min_allowed_weights.min(ctx.n);
    if !self_weight && uids.len() < usize::from(min) {
        return Err(R::WeightVecLengthIsLow);
    }
    let upscaled = kiln_yuma::math::u16_max_upscale(values);
    if ctx.max_weights_limit != u16::MAX && !self_weight {
        let sum: u64 = upscaled.iter().map(|&v| u64::from(v)).sum();
        let max = upscaled.iter().copied().max().map_or(0, u64::from);
        if sum != 0 && max * u64::from(u16::MAX) > u64::from(ctx.max_weights_limit) * sum {
            return Err(R::MaxWeightExceeded);
        }
    }
    Ok(upscaled)
}

/// Checks a `commit_weights` call: commit-reveal on, registered, rate limit passed.
pub fn check_commit(ctx: &WeightsContext) -> Result<(), WeightsRejection> {
    if !ctx.commit_reveal {
        return Err(WeightsRejection::CommitRevealDisabled);
    }
    if ctx.uid.is_none() {
        return Err(WeightsRejection::HotKeyNotRegisteredInSubNet);
    }
    if !rate_limit_passed(ctx) {
        return Err(WeightsRejection::CommittingWeightsTooFast);
    }
    Ok(())
}

fn rate_limit_passed(ctx: &WeightsContext) -> bool {
    ctx.last_update == 0 || ctx.block.saturating_sub(ctx.last_update) >= ctx.rate_limit
}

/// Why scores cannot become a weight vector.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum ScoreError {
    /// No entries.
    #[error("no scores")]
    Empty,
    /// A score is NaN, infinite or negative.
    #[error("score for uid {uid} is {value}; scores must be finite and non-negative")]
    Invalid {
        /// The uid.
        uid: u16,
        /// The score.
        value: f64,
    },
    /// Every score is zero: there is nothing to weight.
    #[error("every score is zero")]
    AllZero,
}

/// Float scores → the u16 vector the chain stores: each score divided by the largest, times
/// 65535, rounded half up; the largest becomes 65535. Entries keep their order; zero scores stay
/// as explicit zeros (the chain stores them, which keeps bonds to those uids decaying).
pub fn scores_to_u16(scores: &[(u16, f64)]) -> Result<(Vec<u16>, Vec<u16>), ScoreError> {
    if scores.is_empty() {
        return Err(ScoreError::Empty);
    }
    if let Some(&(uid, value)) = scores.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
        return Err(ScoreError::Invalid { uid, value });
    }
    let max = scores.iter().map(|&(_, v)| v).fold(0.0, f64::max);
    if max <= 0.0 {
        return Err(ScoreError::AllZero);
    }
    let values = scores
        .iter()
        .map(|&(_, v)| (v / max * 65535.0 + 0.5).floor().clamp(0.0, 65535.0) as u16)
        .collect();
    Ok((scores.iter().map(|&(u, _)| u).collect(), values))
}

/// subtensor's commit hash for commit-reveal v2: BLAKE2-256 of the SCALE encoding of
/// `(hotkey, netuid, uids, values, salt, version_key)`.
pub fn commit_hash(
    hotkey: &[u8; 32],
    netuid: u16,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> [u8; 32] {
    let encoded = (hotkey, netuid, uids, values, salt, version_key).encode();
    sp_crypto_hashing::blake2_256(&encoded)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A validator's context on a subnet without commit-reveal.
    pub(crate) fn ctx() -> WeightsContext {
        WeightsContext {
            netuid: 1,
            subnet_exists: true,
            n: 4,
            uid: Some(1),
            is_owner_hotkey: false,
            stake: 1_000,
            stake_threshold: 0,
            required_version_key: 0,
            rate_limit: 0,
            last_update: 0,
            block: 100,
            permit: true,
            min_allowed_weights: 1,
            max_weights_limit: u16::MAX,
            commit_reveal: false,
        }
    }

    #[test]
    fn each_rule_rejects_with_the_chain_name() {
        let set = |c: &WeightsContext, u: &[u16], v: &[u16]| {
            check(c, WeightsCall::Set, u, v, 0).map_err(|e| e.name())
        };
        let ok = ctx();
        assert_eq!(set(&ok, &[0, 2], &[1, 2]), Ok(vec![32768, 65535]));
        let cases: Vec<(WeightsContext, Vec<u16>, Vec<u16>, &str)> = vec![
            (
                WeightsContext {
                    commit_reveal: true,
                    ..ctx()
                },
                vec![0],
                vec![1],
                "CommitRevealEnabled",
            ),
            (
                WeightsContext { netuid: 0, ..ctx() },
                vec![0],
                vec![1],
                "CanNotSetRootNetworkWeights",
            ),
            (ctx(), vec![0, 2], vec![1], "WeightVecNotEqualSize"),
            (
                WeightsContext {
                    subnet_exists: false,
                    ..ctx()
                },
                vec![0],
                vec![1],
                "SubnetNotExists",
            ),
            (
                ctx(),
                vec![0, 1, 2, 3, 0],
                vec![1; 5],
                "UidsLengthExceedUidsInSubNet",
            ),
            (
                WeightsContext { uid: None, ..ctx() },
                vec![0],
                vec![1],
                "HotKeyNotRegisteredInSubNet",
            ),
            (
                WeightsContext {
                    stake_threshold: 1_001,
                    ..ctx()
                },
                vec![0],
                vec![1],
                "NotEnoughStakeToSetWeights",
            ),
            (
                WeightsContext {
                    required_version_key: 1,
                    ..ctx()
                },
                vec![0],
                vec![1],
                "IncorrectWeightVersionKey",
            ),
            (
                WeightsContext {
                    rate_limit: 10,
                    last_update: 95,
                    ..ctx()
                },
                vec![0],
                vec![1],
                "SettingWeightsTooFast",
            ),
            (
                WeightsContext {
                    permit: false,
                    ..ctx()
                },
                vec![0],
                vec![1],
                "NeuronNoValidatorPermit",
            ),
            (ctx(), vec![0, 0], vec![1, 1], "DuplicateUids"),
            (ctx(), vec![4], vec![1], "UidVecContainInvalidOne"),
            (
                WeightsContext {
                    min_allowed_weights: 2,
                    ..ctx()
                },
                vec![0],
                vec![1],
                "WeightVecLengthIsLow",
            ),
            (
                WeightsContext {
                    max_weights_limit: 32768,
                    ..ctx()
                },
                vec![0, 2],
                vec![1, 9],
                "MaxWeightExceeded",
            ),
        ];
        for (c, u, v, name) in cases {
            assert_eq!(set(&c, &u, &v), Err(name), "{name}");
        }
        // Exemptions: a self-weight needs no permit and no minimum length; the owner no stake.
        let lone = WeightsContext {
            permit: false,
            min_allowed_weights: 3,
            ..ctx()
        };
        assert_eq!(set(&lone, &[1], &[7]), Ok(vec![65535]));
        let owner = WeightsContext {
            is_owner_hotkey: true,
            stake_threshold: u64::MAX,
            permit: false,
            ..ctx()
        };
        assert!(set(&owner, &[0, 2], &[1, 1]).is_ok());
        // A reveal skips the rate limit and is allowed on a commit-reveal subnet.
        let cr = WeightsContext {
            commit_reveal: true,
            rate_limit: 10,
            last_update: 95,
            ..ctx()
        };
        assert!(check(&cr, WeightsCall::Reveal, &[0], &[1], 0).is_ok());
        assert_eq!(
            check_commit(&cr),
            Err(WeightsRejection::CommittingWeightsTooFast)
        );
        assert_eq!(
            check_commit(&ctx()),
            Err(WeightsRejection::CommitRevealDisabled)
        );
    }

    #[test]
    fn commit_hash_is_blake2_of_the_scale_tuple() {
        let hotkey = [7u8; 32];
        let mut bytes = hotkey.to_vec();
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&[4, 2, 0]); // compact(1) ++ 2u16
        bytes.extend_from_slice(&[4, 0xff, 0xff]);
        bytes.extend_from_slice(&[8, 1, 0, 2, 0]);
        bytes.extend_from_slice(&9u64.to_le_bytes());
        assert_eq!(
            commit_hash(&hotkey, 1, &[2], &[65535], &[1, 2], 9),
            sp_crypto_hashing::blake2_256(&bytes)
        );
    }

    #[test]
    fn bad_scores_are_refused() {
        assert_eq!(scores_to_u16(&[]), Err(ScoreError::Empty));
        assert_eq!(
            scores_to_u16(&[(0, 0.0), (1, 0.0)]),
            Err(ScoreError::AllZero)
        );
        assert!(matches!(
            scores_to_u16(&[(3, f64::NAN)]),
            Err(ScoreError::Invalid { uid: 3, .. })
        ));
        assert!(matches!(
            scores_to_u16(&[(0, 1.0), (2, -0.5)]),
            Err(ScoreError::Invalid { uid: 2, .. })
        ));
    }

    proptest! {
        /// What we send is exactly what the chain stores: re-upscaling is the identity, the
        /// largest score maps to 65535, and order between scores is kept.
        #[test]
        fn scores_become_the_stored_vector(scores in proptest::collection::vec(0.0f64..1e6, 1..64)) {
            let indexed: Vec<(u16, f64)> = scores.iter().enumerate().map(|(i, &v)| (i as u16, v)).collect();
            match scores_to_u16(&indexed) {
                Err(ScoreError::AllZero) => prop_assert!(scores.iter().all(|&v| v == 0.0)),
                Err(e) => prop_assert!(false, "{e}"),
                Ok((uids, values)) => {
                    prop_assert_eq!(uids.len(), scores.len());
                    prop_assert_eq!(kiln_yuma::math::u16_max_upscale(&values), values.clone());
                    prop_assert_eq!(values.iter().copied().max(), Some(65535));
                    for i in 0..scores.len() {
                        for j in 0..scores.len() {
                            if scores[i] < scores[j] {
                                prop_assert!(values[i] <= values[j]);
                            }
                        }
                    }
                }
            }
        }
    }
}
