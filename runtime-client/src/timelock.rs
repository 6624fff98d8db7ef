//! Timelocked (drand) commit-reveal, `CommitRevealWeightsVersion` 4: the weights are encrypted to
//! a future round of the chain's drand beacon and committed with `commit_timelocked_weights`; the
//! chain decrypts and applies them itself once that round's pulse is on chain during the reveal
//! epoch. There is no reveal transaction.
//!
//! - [`round`]: which round to encrypt to, and the rule behind it (pure);
//! - [`check`]: the chain's commit rules and the reveal's weights rules, checked first (pure);
//! - [`reveal`]: pending commits, reveal events, and following a commit until the chain applies
//!   or drops it.
//!
//! The beacon's key, period and genesis always come from the chain's `Drand.BeaconConfig`
//! (drand quicknet on finney, the devnet's own beacon locally).

pub mod check;
pub mod reveal;
pub mod round;

use crate::client::{AtBlock, Client};
use crate::error::{ReadError, TxError, WeightsError};
use crate::hyperparams::CommitReveal;
use crate::keys::account;
use crate::read::{BlockSel, get, has_storage};
use crate::schema;
use crate::tx::Included;
use crate::weights;
use codec::Encode;
use kiln_drand::{BeaconClock, WeightsTlockPayload};
use rand_core::{CryptoRng, RngCore};
use round::{EpochSchedule, RoundInputs};
use subxt::utils::AccountId32;
use subxt_signer::sr25519::Keypair;

const SUBTENSOR: &str = "SubtensorModule";

/// A drand beacon as the chain's `Drand` pallet knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beacon {
    /// The public key (compressed BLS12-381 G2).
    pub public_key: Vec<u8>,
    /// Its round schedule.
    pub clock: BeaconClock,
    /// The latest round whose pulse is on chain.
    pub last_stored_round: u64,
}

/// A timelocked commit the chain accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelockedCommit {
    /// The subnet.
    pub netuid: u16,
    /// Destination uids.
    pub uids: Vec<u16>,
    /// u16 weights as the chain will store them.
    pub values: Vec<u16>,
    /// Version key.
    pub version_key: u64,
    /// The drand round the weights are encrypted to.
    pub reveal_round: u64,
    /// The block that includes the commit.
    pub commit_block: u64,
    /// The epoch the chain filed it under (`TimelockedWeightCommits` key).
    pub commit_epoch: u64,
    /// The predicted first block of the reveal epoch.
    pub reveal_block: u64,
    /// BLAKE2-256 of the ciphertext, as in `TimelockedWeightsCommitted`.
    pub hash: [u8; 32],
}

/// The commit `who` sends: subtensor's `WeightsTlockPayload` (the committer's account id, the
/// vector, the version key) timelock-encrypted to `round` of the beacon with `public_key`,
/// and its BLAKE2-256 (the hash `TimelockedWeightsCommitted` carries).
pub fn seal<R: RngCore + CryptoRng>(
    public_key: &[u8],
    round: u64,
    who: &AccountId32,
    uids: &[u16],
    values: &[u16],
    version_key: u64,
    rng: R,
) -> Result<(Vec<u8>, [u8; 32]), WeightsError> {
    let payload = WeightsTlockPayload {
        hotkey: who.0.to_vec(),
        uids: uids.to_vec(),
        values: values.to_vec(),
        version_key,
    };
    let ciphertext = kiln_drand::encrypt(public_key, round, &payload.encode(), rng)?;
    if ciphertext.len() > check::MAX_COMMIT_LEN {
        return Err(WeightsError::CommitTooLarge(ciphertext.len()));
    }
    let hash = sp_crypto_hashing::blake2_256(&ciphertext);
    Ok((ciphertext, hash))
}

impl Client {
    /// The chain's drand beacon at `sel`; [`ReadError::NotInRuntime`] without a `Drand` pallet.
    pub async fn beacon(&self, sel: BlockSel) -> Result<Beacon, ReadError> {
        let at = self.at(sel).await?;
        self.beacon_at(&at).await
    }

    pub(crate) async fn beacon_at(&self, at: &AtBlock) -> Result<Beacon, ReadError> {
        if !has_storage(at, "Drand", "BeaconConfig") {
            return Err(ReadError::NotInRuntime {
                item: "Drand.BeaconConfig",
            });
        }
        let (config, last_stored_round) = self
            .timed(async {
                futures::try_join!(
                    get(at, schema::beacon_config(), ()),
                    get(at, schema::last_stored_round(), ()),
                )
            })
            .await??;
        Ok(Beacon {
            public_key: config.public_key,
            clock: BeaconClock {
                genesis_time: u64::from(config.genesis_time),
                period: u64::from(config.period),
            },
            last_stored_round,
        })
    }

    /// The epoch schedule of `netuid` at `sel` (`None`: tempo 0, no epochs). See [`round`] for
    /// which rule applies to which runtime.
    pub async fn epoch_schedule(
        &self,
        netuid: u16,
        sel: BlockSel,
    ) -> Result<Option<EpochSchedule>, ReadError> {
        let at = self.at(sel).await?;
        self.epoch_schedule_at(&at, netuid).await
    }

    pub(crate) async fn epoch_schedule_at(
        &self,
        at: &AtBlock,
        netuid: u16,
    ) -> Result<Option<EpochSchedule>, ReadError> {
        let block = at.block_number();
        let tempo = self
            .timed(get(at, schema::net_u16("Tempo"), (netuid,)))
            .await??;
        if has_storage(at, SUBTENSOR, "SubnetEpochIndex")
            && has_storage(at, SUBTENSOR, "LastEpochBlock")
        {
            let (index, last, pending) = self
                .timed(async {
                    futures::try_join!(
                        get(at, schema::net_u64("SubnetEpochIndex"), (netuid,)),
                        get(at, schema::net_u64("LastEpochBlock"), (netuid,)),
                        get(at, schema::net_u64("PendingEpochAt"), (netuid,)),
                    )
                })
                .await??;
            return Ok(EpochSchedule::stateful(block, tempo, index, last, pending));
        }
        if has_storage(at, SUBTENSOR, "BlocksSinceLastStep") {
            return Ok(EpochSchedule::legacy(block, netuid, tempo));
        }
        Ok(EpochSchedule::fixed(block, tempo))
    }

    /// `Timestamp.Now` at `at`, and the milliseconds per block over up to the last 10 blocks
    /// ([`round::block_ms`]).
    pub(crate) async fn block_time_at(&self, at: &AtBlock) -> Result<(u64, u64), ReadError> {
        let block = at.block_number();
        let now_ms = self.timed(get(at, schema::timestamp_now(), ())).await??;
        let earlier = block.saturating_sub(10).max(1)..block;
        let mut samples =
            futures::future::try_join_all(earlier.clone().map(|n| self.block_timestamp(n)))
                .await
                .map(|ms| earlier.zip(ms).collect::<Vec<_>>())?;
        samples.push((block, now_ms));
        Ok((now_ms, round::block_ms(&samples)))
    }

    /// Commits weights under timelocked commit-reveal (version 4): float scores converted as the
    /// chain stores them, the commit and reveal rules checked locally ([`check`]), the payload
    /// encrypted to the round predicted by [`round`] with the chain's beacon key, then sent with
    /// `commit_timelocked_weights`.
    pub async fn commit_timelocked_weights(
        &self,
        netuid: u16,
        hotkey: &Keypair,
        scores: &[(u16, f64)],
        version_key: u64,
    ) -> Result<(TimelockedCommit, Included), WeightsError> {
        let (uids, values) = weights::scores_to_u16(scores)?;
        let who = account(hotkey);
        let at = self.at(BlockSel::Latest).await?;
        let (ctx, mode) = self.weights_context_at(&at, netuid, &who).await?;
        let (chain_version, period) = match mode {
            CommitReveal::Timelocked { version, period } => (Some(version), period),
            CommitReveal::Hash { period } => (None, period),
            CommitReveal::Off => (None, 1),
        };
        // Without commit-reveal or at another version, refuse before reading anything else.
        check::check_mode(ctx.commit_reveal, chain_version)?;
        let schedule = self
            .epoch_schedule_at(&at, netuid)
            .await?
            .ok_or(WeightsError::NoEpochs(netuid))?;
        let filed_under = schedule.epoch_at(ctx.block);
        let unrevealed = self
            .timed(reveal::epoch_commits(&at, netuid, filed_under))
            .await??
            .iter()
            .filter(|entry| entry.0 == who)
            .count();
        let values = check::check(&ctx, chain_version, unrevealed, &uids, &values, version_key)?;

        let beacon = self.beacon_at(&at).await?;
        let (now_ms, block_ms) = self.block_time_at(&at).await?;
        let reveal_round = round::reveal_round(&RoundInputs {
            block: at.block_number(),
            now_ms,
            block_ms,
            reveal_block: schedule.reveal_block(ctx.block, period),
            clock: beacon.clock,
            last_stored_round: beacon.last_stored_round,
        });
        let (ciphertext, hash) = seal(
            &beacon.public_key,
            reveal_round,
            &who,
            &uids,
            &values,
            version_key,
            rand_core::OsRng,
        )?;
        let call = schema::commit_timelocked_weights((
            netuid,
            ciphertext,
            reveal_round,
            check::SUPPORTED_VERSION,
        ));
        let included = self.submit(&call, hotkey).await?;
        // The epoch the chain filed it under, from its own record at the including block.
        let at = self.at(BlockSel::Number(included.block_number)).await?;
        let commit_epoch = self
            .timed(reveal::find_commit(&at, netuid, &who, &hash))
            .await??
            .map(|(epoch, _)| epoch)
            .ok_or_else(|| {
                TxError::DispatchOther("committed, but no TimelockedWeightCommits entry".into())
            })?;
        let commit = TimelockedCommit {
            netuid,
            uids,
            values,
            version_key,
            reveal_round,
            commit_block: included.block_number,
            commit_epoch,
            reveal_block: schedule.start_of(commit_epoch + period.max(1)),
            hash,
        };
        Ok((commit, included))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::Decode;
    use rand_core::SeedableRng;

    #[test]
    fn a_sealed_commit_opens_with_the_rounds_signature_only() {
        let beacon = kiln_drand::Beacon::from_seed(b"seal test");
        let who = AccountId32([4; 32]);
        let rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let (ciphertext, hash) =
            seal(&beacon.public_key(), 77, &who, &[0, 3], &[65535, 9], 5, rng).unwrap();
        assert_eq!(hash, sp_crypto_hashing::blake2_256(&ciphertext));
        let plain = kiln_drand::decrypt(&ciphertext, &beacon.sign(77)).unwrap();
        let payload = WeightsTlockPayload::decode(&mut &plain[..]).unwrap();
        assert_eq!(
            payload,
            WeightsTlockPayload {
                hotkey: who.0.to_vec(),
                uids: vec![0, 3],
                values: vec![65535, 9],
                version_key: 5,
            }
        );
        assert!(kiln_drand::decrypt(&ciphertext, &beacon.sign(78)).is_err());
    }

    #[test]
    fn a_commit_over_the_calls_bound_is_refused() {
        let pk = kiln_drand::Beacon::from_seed(b"seal test").public_key();
        let who = AccountId32([4; 32]);
        let rng = || rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let n = 1_250u16;
        let uids: Vec<u16> = (0..n).collect();
        let big = seal(&pk, 1, &who, &uids, &uids, 0, rng());
        assert!(
            matches!(big, Err(WeightsError::CommitTooLarge(len)) if len > check::MAX_COMMIT_LEN),
            "{big:?}"
        );
        let (fits, _) = seal(&pk, 1, &who, &uids[..1_000], &uids[..1_000], 0, rng()).unwrap();
        assert!(fits.len() <= check::MAX_COMMIT_LEN);
    }
}
