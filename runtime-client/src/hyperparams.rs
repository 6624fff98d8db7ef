//! Subnet hyperparameters that decide what a miner or validator may send.

use crate::client::{AtBlock, Client};
use crate::error::ReadError;
use crate::read::{BlockSel, get, has_storage, try_get};
use crate::schema;

/// The commit-reveal scheme a subnet requires for weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitReveal {
    /// Plain `set_weights`.
    Off,
    /// `commit_weights` / `reveal_weights` with the BLAKE2 hash (v2), after `period` epochs.
    Hash {
        /// `RevealPeriodEpochs`.
        period: u64,
    },
    /// Timelocked (drand) commits of the given `CommitRevealWeightsVersion` (3 or later).
    Timelocked {
        /// `CommitRevealWeightsVersion`.
        version: u16,
        /// `RevealPeriodEpochs`.
        period: u64,
    },
}

impl CommitReveal {
    /// The scheme from `CommitRevealWeightsEnabled`, `CommitRevealWeightsVersion` (absent on
    /// chains with only the hash scheme, such as the devnet) and `RevealPeriodEpochs`.
    pub fn from_chain(enabled: bool, version: Option<u16>, period: u64) -> Self {
        match (enabled, version) {
            (false, _) => CommitReveal::Off,
            (true, Some(version)) if version >= 3 => CommitReveal::Timelocked { version, period },
            (true, _) => CommitReveal::Hash { period },
        }
    }
}

/// A subnet's hyperparameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hyperparams {
    /// The subnet.
    pub netuid: u16,
    /// Whether it exists.
    pub exists: bool,
    /// Blocks per epoch.
    pub tempo: u16,
    /// Blocks between two weight submissions of one hotkey.
    pub weights_rate_limit: u64,
    /// Fewest entries in a weight vector.
    pub min_allowed_weights: u16,
    /// Largest share of one entry (65535 = no limit).
    pub max_weights_limit: u16,
    /// Lowest version key accepted (0 = any).
    pub weights_version_key: u64,
    /// Blocks without weights after which a validator counts as inactive.
    pub activity_cutoff: u16,
    /// Capacity in uids.
    pub max_allowed_uids: u16,
    /// Validator permits handed out per epoch.
    pub max_allowed_validators: u16,
    /// Registered uids.
    pub n: u16,
    /// Registration burn, in rao.
    pub burn: u64,
    /// Minimum stake to set weights (chain-wide), in rao.
    pub stake_threshold: u64,
    /// The commit-reveal scheme.
    pub commit_reveal: CommitReveal,
}

impl Client {
    /// The hyperparameters of `netuid` at `sel`.
    pub async fn hyperparams(&self, netuid: u16, sel: BlockSel) -> Result<Hyperparams, ReadError> {
        let at = self.at(sel).await?;
        self.hyperparams_at(&at, netuid).await
    }

    /// The hyperparameters of `netuid` in an open view of the chain.
    pub(crate) async fn hyperparams_at(
        &self,
        at: &AtBlock,
        netuid: u16,
    ) -> Result<Hyperparams, ReadError> {
        self.timed(async {
            let u16s = futures::future::try_join_all(
                schema::U16_PARAMS.map(|name| get(at, schema::net_u16(name), (netuid,))),
            );
            let u64s = futures::future::try_join_all(
                schema::U64_PARAMS.map(|name| get(at, schema::net_u64(name), (netuid,))),
            );
            let (u16s, u64s, exists, cr, period, threshold) = futures::try_join!(
                u16s,
                u64s,
                get(at, schema::networks_added(), (netuid,)),
                get(at, schema::commit_reveal_enabled(), (netuid,)),
                get(at, schema::reveal_period(), (netuid,)),
                get(at, schema::stake_threshold(), ()),
            )?;
            let version = if has_storage(at, "SubtensorModule", "CommitRevealWeightsVersion") {
                try_get(at, schema::commit_reveal_version(), ()).await?
            } else {
                None
            };
            let commit_reveal = CommitReveal::from_chain(cr, version, period);
            let [
                tempo,
                min_allowed_weights,
                max_weights_limit,
                activity_cutoff,
                max_allowed_uids,
                max_allowed_validators,
                n,
            ] = <[u16; 7]>::try_from(u16s).expect("seven u16 parameters");
            let [weights_rate_limit, weights_version_key, burn] =
                <[u64; 3]>::try_from(u64s).expect("three u64 parameters");
            Ok(Hyperparams {
                netuid,
                exists,
                tempo,
                weights_rate_limit,
                min_allowed_weights,
                max_weights_limit,
                weights_version_key,
                activity_cutoff,
                max_allowed_uids,
                max_allowed_validators,
                n,
                burn,
                stake_threshold: threshold,
                commit_reveal,
            })
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timelocked_versions_are_recognised() {
        assert_eq!(
            CommitReveal::from_chain(false, Some(4), 1),
            CommitReveal::Off
        );
        assert_eq!(
            CommitReveal::from_chain(true, Some(4), 2),
            CommitReveal::Timelocked {
                version: 4,
                period: 2
            }
        );
        assert_eq!(
            CommitReveal::from_chain(true, None, 1),
            CommitReveal::Hash { period: 1 }
        );
        assert_eq!(
            CommitReveal::from_chain(true, Some(2), 1),
            CommitReveal::Hash { period: 1 }
        );
    }
}
