//! Transactions a miner or validator sends: registration, axon, stake, commitment, weights.
//! Each is checked locally against the chain state first, so a doomed transaction is refused
//! with the chain's error name before anything is signed.

use crate::client::{AtBlock, Client};
use crate::error::{
    ReadError, RegisterError, ServeError, SetCommitmentError, StakeError, TxError, WeightsError,
};
use crate::hyperparams::CommitReveal;
use crate::keys::account;
use crate::read::{BlockSel, get, try_get};
use crate::schema;
use crate::tx::Included;
use crate::weights::{self, WeightsCall, WeightsContext};
use std::net::IpAddr;
use subxt::ext::scale_value::{At, Value};
use subxt::utils::AccountId32;
use subxt_signer::sr25519::Keypair;

/// An axon endpoint to announce with `serve_axon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxonEndpoint {
    /// Public IP address.
    pub ip: IpAddr,
    /// TCP port (not 0).
    pub port: u16,
    /// Software version.
    pub version: u32,
    /// Protocol tag (4 for TCP in Bittensor tooling).
    pub protocol: u8,
}

impl AxonEndpoint {
    /// The `serve_axon` arguments, after subtensor's endpoint checks.
    pub fn args(&self, netuid: u16) -> Result<schema::ServeAxonArgs, ServeError> {
        if self.port == 0 {
            return Err(ServeError::InvalidEndpoint(
                "port must not be 0 (InvalidPort)",
            ));
        }
        let (ip, ip_type) = match self.ip {
            IpAddr::V4(v4) => {
                if v4.is_loopback() || v4.is_broadcast() {
                    return Err(ServeError::InvalidEndpoint(
                        "loopback and broadcast IPv4 are refused (InvalidIpAddress)",
                    ));
                }
                (u128::from(u32::from(v4)), 4u8)
            }
            IpAddr::V6(v6) => {
                if v6.is_loopback() || u128::from(v6) == u128::MAX {
                    return Err(ServeError::InvalidEndpoint(
                        "loopback and all-ones IPv6 are refused (InvalidIpAddress)",
                    ));
                }
                (u128::from(v6), 6u8)
            }
        };
        Ok((
            netuid,
            self.version,
            ip,
            self.port,
            ip_type,
            self.protocol,
            0,
            0,
        ))
    }
}

impl Client {
    /// The uid of `hotkey` on `netuid`, if registered.
    pub async fn uid_of(
        &self,
        netuid: u16,
        hotkey: &AccountId32,
    ) -> Result<Option<u16>, ReadError> {
        let at = self.at(BlockSel::Latest).await?;
        self.timed(try_get(&at, schema::uids(), (netuid, *hotkey)))
            .await?
    }

    /// The free balance of `who`, in rao.
    pub async fn free_balance(&self, who: &AccountId32) -> Result<u64, ReadError> {
        let at = self.at(BlockSel::Latest).await?;
        self.timed(free_balance_at(&at, who)).await?
    }

    /// Registers `hotkey` on `netuid`, paying the burn from `coldkey`. Returns the new uid.
    pub async fn burned_register(
        &self,
        netuid: u16,
        coldkey: &Keypair,
        hotkey: &AccountId32,
    ) -> Result<(u16, Included), RegisterError> {
        let at = self.at(BlockSel::Latest).await?;
        let payer = account(coldkey);
        let (exists, burn, uid, balance) = self
            .timed(async {
                futures::try_join!(
                    get(&at, schema::networks_added(), (netuid,)),
                    get(&at, schema::net_u64("Burn"), (netuid,)),
                    try_get(&at, schema::uids(), (netuid, *hotkey)),
                    free_balance_at(&at, &payer),
                )
            })
            .await??;
        if !exists {
            return Err(RegisterError::SubnetNotExists(netuid));
        }
        if let Some(uid) = uid {
            return Err(RegisterError::AlreadyRegistered { netuid, uid });
        }
        if balance < burn {
            return Err(RegisterError::NotEnoughBalance { balance, burn });
        }
        let included = self
            .submit(&schema::burned_register(netuid, *hotkey), coldkey)
            .await?;
        // Read at the including block: on finney it is not finalized yet.
        let at = self.at(BlockSel::Number(included.block_number)).await?;
        let uid = self
            .timed(try_get(&at, schema::uids(), (netuid, *hotkey)))
            .await??
            .ok_or_else(|| {
                TxError::DispatchOther("registered, but the hotkey has no uid".into())
            })?;
        Ok((uid, included))
    }

    /// Announces `endpoint` for `hotkey` on `netuid`.
    pub async fn serve_axon(
        &self,
        netuid: u16,
        hotkey: &Keypair,
        endpoint: &AxonEndpoint,
    ) -> Result<Included, ServeError> {
        let args = endpoint.args(netuid)?;
        if self.uid_of(netuid, &account(hotkey)).await?.is_none() {
            return Err(ServeError::NotRegistered);
        }
        Ok(self.submit(&schema::serve_axon(args), hotkey).await?)
    }

    /// Stakes `amount` rao from `coldkey` to `hotkey` on `netuid`.
    pub async fn add_stake(
        &self,
        netuid: u16,
        coldkey: &Keypair,
        hotkey: &AccountId32,
        amount: u64,
    ) -> Result<Included, StakeError> {
        Ok(self
            .submit(&schema::add_stake(*hotkey, netuid, amount), coldkey)
            .await?)
    }

    /// Transfers `amount` rao from `from` to `to` (keeping `from` alive).
    pub async fn transfer(
        &self,
        from: &Keypair,
        to: &AccountId32,
        amount: u64,
    ) -> Result<Included, StakeError> {
        Ok(self
            .submit(&schema::transfer_keep_alive(*to, amount), from)
            .await?)
    }

    /// Writes `bytes` (a kiln commitment, at most 128 bytes) as the hotkey's `Raw` commitment.
    pub async fn set_commitment(
        &self,
        netuid: u16,
        hotkey: &Keypair,
        bytes: &[u8],
    ) -> Result<Included, SetCommitmentError> {
        if bytes.len() > crate::commitments::MAX_RAW {
            return Err(SetCommitmentError::TooLong(bytes.len()));
        }
        if self.uid_of(netuid, &account(hotkey)).await?.is_none() {
            return Err(SetCommitmentError::NotRegistered);
        }
        Ok(self
            .submit(&schema::set_commitment(netuid, bytes), hotkey)
            .await?)
    }

    /// What the chain knows about `hotkey` that decides whether its weights are accepted.
    pub async fn weights_context(
        &self,
        netuid: u16,
        hotkey: &AccountId32,
    ) -> Result<(WeightsContext, CommitReveal), ReadError> {
        let at = self.at(BlockSel::Latest).await?;
        self.weights_context_at(&at, netuid, hotkey).await
    }

    /// [`Client::weights_context`] in an open view, so every value comes from one block.
    pub(crate) async fn weights_context_at(
        &self,
        at: &AtBlock,
        netuid: u16,
        hotkey: &AccountId32,
    ) -> Result<(WeightsContext, CommitReveal), ReadError> {
        let params = self.hyperparams_at(at, netuid).await?;
        let (uid, owner, stake, permits, last_update) = self
            .timed(async {
                futures::try_join!(
                    try_get(at, schema::uids(), (netuid, *hotkey)),
                    get(at, schema::subnet_owner_hotkey(), (netuid,)),
                    get(at, schema::total_hotkey_alpha(), (*hotkey, netuid)),
                    get(at, schema::net_vec::<bool>("ValidatorPermit"), (netuid,)),
                    get(at, schema::net_vec::<u64>("LastUpdate"), (netuid,)),
                )
            })
            .await??;
        let pick = |uid: Option<u16>| uid.map(usize::from);
        let ctx = WeightsContext {
            netuid,
            subnet_exists: params.exists,
            n: params.n,
            uid,
            is_owner_hotkey: &owner == hotkey,
            stake,
            stake_threshold: params.stake_threshold,
            required_version_key: params.weights_version_key,
            rate_limit: params.weights_rate_limit,
            last_update: pick(uid)
                .and_then(|u| last_update.get(u).copied())
                .unwrap_or(0),
            block: at.block_number() + 1,
            permit: pick(uid)
                .and_then(|u| permits.get(u).copied())
                .unwrap_or(false),
            min_allowed_weights: params.min_allowed_weights,
            max_weights_limit: params.max_weights_limit,
            commit_reveal: params.commit_reveal != CommitReveal::Off,
        };
        Ok((ctx, params.commit_reveal))
    }

    /// Sets weights from float scores: converted as the chain stores them, checked against
    /// every rule the chain applies, then sent with `set_weights`.
    pub async fn set_weights(
        &self,
        netuid: u16,
        hotkey: &Keypair,
        scores: &[(u16, f64)],
        version_key: u64,
    ) -> Result<Included, WeightsError> {
        let (uids, values) = weights::scores_to_u16(scores)?;
        let (ctx, mode) = self.weights_context(netuid, &account(hotkey)).await?;
        if let CommitReveal::Timelocked { version, .. } = mode {
            return Err(WeightsError::TimelockedCommitReveal { netuid, version });
        }
        let values = weights::check(&ctx, WeightsCall::Set, &uids, &values, version_key)?;
        self.set_weights_unchecked(netuid, hotkey, uids, values, version_key)
            .await
    }

    /// Sends `set_weights` with exactly these u16 values, skipping the local checks (for
    /// operators and tests that want the chain's own verdict).
    pub async fn set_weights_unchecked(
        &self,
        netuid: u16,
        hotkey: &Keypair,
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
    ) -> Result<Included, WeightsError> {
        let call = schema::set_weights(netuid, uids, values, version_key);
        Ok(self.submit(&call, hotkey).await?)
    }

    /// Commits to weights (commit-reveal v2). Returns what [`Client::reveal_weights`] needs.
    pub async fn commit_weights(
        &self,
        netuid: u16,
        hotkey: &Keypair,
        scores: &[(u16, f64)],
        salt: Vec<u16>,
        version_key: u64,
    ) -> Result<(PendingReveal, Included), WeightsError> {
        let (uids, values) = weights::scores_to_u16(scores)?;
        let (ctx, mode) = self.weights_context(netuid, &account(hotkey)).await?;
        if let CommitReveal::Timelocked { version, .. } = mode {
            return Err(WeightsError::TimelockedCommitReveal { netuid, version });
        }
        weights::check_commit(&ctx)?;
        // The reveal must pass every set_weights check; find out now, not an epoch later.
        let values = weights::check(&ctx, WeightsCall::Reveal, &uids, &values, version_key)?;
        let pending = PendingReveal {
            netuid,
            uids,
            values,
            salt,
            version_key,
        };
        let hash = pending.hash(&account(hotkey));
        let included = self
            .submit(&schema::commit_weights(netuid, hash), hotkey)
            .await?;
        Ok((pending, included))
    }

    /// Reveals committed weights.
    pub async fn reveal_weights(
        &self,
        hotkey: &Keypair,
        pending: &PendingReveal,
    ) -> Result<Included, WeightsError> {
        let who = account(hotkey);
        let hash = pending.hash(&who);
        let at = self.at(BlockSel::Latest).await?;
        let commits = self
            .timed(try_get(
                &at,
                schema::weight_commits(),
                (pending.netuid, who),
            ))
            .await??
            .unwrap_or_default();
        if !commits.iter().any(|(h, ..)| h.0 == hash) {
            return Err(WeightsError::NoCommit);
        }
        let (ctx, _) = self.weights_context_at(&at, pending.netuid, &who).await?;
        weights::check(
            &ctx,
            WeightsCall::Reveal,
            &pending.uids,
            &pending.values,
            pending.version_key,
        )?;
        let call = schema::reveal_weights((
            pending.netuid,
            pending.uids.clone(),
            pending.values.clone(),
            pending.salt.clone(),
            pending.version_key,
        ));
        Ok(self.submit(&call, hotkey).await?)
    }
}

/// The free balance of `who` (`System.Account` → `data.free`), in rao.
async fn free_balance_at(at: &AtBlock, who: &AccountId32) -> Result<u64, ReadError> {
    let info: Value = get(at, schema::system_account(), (*who,)).await?;
    info.at("data")
        .and_then(|d| d.at("free"))
        .and_then(|v| v.as_u128())
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| ReadError::Storage {
            item: "System.Account".into(),
            reason: format!("no u64 data.free in {info}"),
        })
}

/// A committed weight vector waiting for its reveal epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReveal {
    /// The subnet.
    pub netuid: u16,
    /// Destination uids.
    pub uids: Vec<u16>,
    /// u16 weights as stored.
    pub values: Vec<u16>,
    /// The salt (keep it secret until the reveal).
    pub salt: Vec<u16>,
    /// Version key.
    pub version_key: u64,
}

impl PendingReveal {
    /// The commit hash for `hotkey`.
    pub fn hash(&self, hotkey: &AccountId32) -> [u8; 32] {
        weights::commit_hash(
            &hotkey.0,
            self.netuid,
            &self.uids,
            &self.values,
            &self.salt,
            self.version_key,
        )
    }
}
