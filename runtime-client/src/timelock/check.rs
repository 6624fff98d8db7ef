//! `commit_timelocked_weights` checked before it is signed: subtensor's commit checks in its
//! order and under its error names, then every check the weights meet when the chain reveals
//! them (a vector that would fail there is dropped silently an epoch later). Pure.

use crate::weights::{self, WeightsCall, WeightsContext, WeightsRejection};

/// The `commit_reveal_version` this client encrypts for (subtensor's `WeightsTlockPayload`
/// under drand timelock encryption).
pub const SUPPORTED_VERSION: u16 = 4;
/// Most timelocked commits one hotkey may have filed in one epoch.
pub const MAX_UNREVEALED: usize = 10;
/// The largest commit the call accepts (`MAX_CRV3_COMMIT_SIZE_BYTES`).
pub const MAX_COMMIT_LEN: usize = kiln_drand::tlock::MAX_CIPHERTEXT_LEN;

/// The rules that depend only on the subnet's mode: commit-reveal on, at [`SUPPORTED_VERSION`].
pub fn check_mode(commit_reveal: bool, chain_version: Option<u16>) -> Result<(), WeightsRejection> {
    if !commit_reveal {
        return Err(WeightsRejection::CommitRevealDisabled);
    }
    if chain_version != Some(SUPPORTED_VERSION) {
        return Err(WeightsRejection::IncorrectCommitRevealVersion);
    }
    Ok(())
}

/// Checks a timelocked commit of `uids`/`values` by the hotkey `ctx` describes, on a chain whose
/// `CommitRevealWeightsVersion` is `chain_version` (`None`: the chain has none, or a hash-only
/// scheme), where the hotkey already filed `unrevealed` commits in the commit's epoch. Returns
/// the vector as the chain will store it at the reveal.
pub fn check(
    ctx: &WeightsContext,
    chain_version: Option<u16>,
    unrevealed: usize,
    uids: &[u16],
    values: &[u16],
    version_key: u64,
) -> Result<Vec<u16>, WeightsRejection> {
    check_mode(ctx.commit_reveal, chain_version)?;
    weights::check_commit(ctx)?;
    if unrevealed >= MAX_UNREVEALED {
        return Err(WeightsRejection::TooManyUnrevealedCommits);
    }
    weights::check(ctx, WeightsCall::Reveal, uids, values, version_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx() -> WeightsContext {
        WeightsContext {
            commit_reveal: true,
            ..crate::weights::tests::ctx()
        }
    }

    #[test]
    fn reveal_time_rules_are_checked_at_commit_time() {
        let ok = check(&ctx(), Some(4), 9, &[0, 2], &[1, 2], 0);
        assert_eq!(ok, Ok(vec![32768, 65535]));
        let no_permit = WeightsContext {
            permit: false,
            ..ctx()
        };
        assert_eq!(
            check(&no_permit, Some(4), 0, &[0, 2], &[1, 1], 0),
            Err(WeightsRejection::NeuronNoValidatorPermit)
        );
        assert_eq!(
            check(&ctx(), Some(4), 0, &[0, 0], &[1, 1], 0),
            Err(WeightsRejection::DuplicateUids)
        );
        let versioned = WeightsContext {
            required_version_key: 3,
            ..ctx()
        };
        assert_eq!(
            check(&versioned, Some(4), 0, &[0], &[1], 2),
            Err(WeightsRejection::IncorrectWeightVersionKey)
        );
    }

    proptest! {
        /// Commit rules fail in subtensor's order: commit-reveal on, the version, registration,
        /// the rate limit, the unrevealed quota; only then the vector.
        #[test]
        fn commit_rules_fail_in_the_chains_order(
            enabled: bool, version in prop::option::of(2u16..6), registered: bool,
            last_update in 0u64..=100, rate_limit in 0u64..50, unrevealed in 0usize..12,
        ) {
            let c = WeightsContext {
                commit_reveal: enabled,
                uid: registered.then_some(1),
                last_update,
                rate_limit,
                ..ctx()
            };
            let too_fast = last_update != 0 && c.block - last_update < rate_limit;
            let rules = [
                (!enabled, "CommitRevealDisabled"),
                (version != Some(4), "IncorrectCommitRevealVersion"),
                (!registered, "HotKeyNotRegisteredInSubNet"),
                (too_fast, "CommittingWeightsTooFast"),
                (unrevealed >= 10, "TooManyUnrevealedCommits"),
            ];
            let expected = rules.iter().find(|(broken, _)| *broken).map(|(_, name)| *name);
            let got = check(&c, version, unrevealed, &[0, 2], &[1, 1], 0);
            prop_assert_eq!(got.as_ref().err().map(|e| e.name()), expected);
            if expected.is_none() {
                prop_assert_eq!(got, Ok(vec![65535, 65535]));
            }
        }
    }
}
