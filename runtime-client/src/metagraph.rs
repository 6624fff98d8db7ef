//! A subnet's metagraph at one block, read from storage items that subtensor and the devnet
//! share (`Keys`, `Owner`, `TotalHotkeyAlpha`, the per-subnet vectors, `Axons`).

use crate::client::{AtBlock, Client};
use crate::error::ReadError;
use crate::read::{BlockSel, get, try_get};
use crate::schema::{self, AxonInfo};
use futures::{StreamExt, TryStreamExt};
use subxt::utils::{AccountId32, H256};

/// Concurrent storage requests per metagraph read.
const CONCURRENCY: usize = 32;

/// One uid of a subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neuron {
    /// The uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: AccountId32,
    /// The hotkey's owner coldkey.
    pub coldkey: AccountId32,
    /// Stake (alpha) on the subnet, in rao.
    pub stake: u64,
    /// Holds a validator permit.
    pub validator_permit: bool,
    /// Active in the last epoch.
    pub active: bool,
    /// Block of its last weights (or commit).
    pub last_update: u64,
    /// Block it registered at.
    pub registered_at: u64,
    /// Incentive, u16 proportion (65535 = 1).
    pub incentive: u16,
    /// Dividends, u16 proportion.
    pub dividends: u16,
    /// Consensus, u16 proportion.
    pub consensus: u16,
    /// Validator trust, u16 proportion.
    pub validator_trust: u16,
    /// Emission of the last epoch, in rao.
    pub emission: u64,
    /// The served axon, if any.
    pub axon: Option<AxonInfo>,
}

/// Converts a u16 proportion to `[0, 1]`.
pub fn proportion(x: u16) -> f64 {
    f64::from(x) / 65535.0
}

/// A subnet's neurons at one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: u16,
    /// The block read.
    pub block: u64,
    /// Its hash.
    pub block_hash: H256,
    /// Neurons by uid (index = uid).
    pub neurons: Vec<Neuron>,
}

impl Metagraph {
    /// The neuron of `hotkey`.
    pub fn by_hotkey(&self, hotkey: &AccountId32) -> Option<&Neuron> {
        self.neurons.iter().find(|n| &n.hotkey == hotkey)
    }
}

fn at_uid<T: Copy + Default>(v: &[T], uid: u16) -> T {
    v.get(usize::from(uid)).copied().unwrap_or_default()
}

impl Client {
    /// The hotkeys registered on `netuid` at `sel` (the `Keys` map; cheaper than a metagraph).
    pub async fn hotkeys(&self, netuid: u16, sel: BlockSel) -> Result<Vec<AccountId32>, ReadError> {
        let at = self.at(sel).await?;
        let keys = self.timed(keys_at(&at, netuid)).await??;
        Ok(keys.into_iter().map(|(_, hotkey)| hotkey).collect())
    }

    /// The metagraph of `netuid` at `sel`.
    pub async fn metagraph(&self, netuid: u16, sel: BlockSel) -> Result<Metagraph, ReadError> {
        let at = self.at(sel).await?;
        self.timed(async {
            let u16s = futures::future::try_join_all(
                schema::U16_VECTORS.map(|name| get(&at, schema::net_vec::<u16>(name), (netuid,))),
            );
            let bools = futures::future::try_join_all(
                schema::BOOL_VECTORS.map(|name| get(&at, schema::net_vec::<bool>(name), (netuid,))),
            );
            let u64s = futures::future::try_join_all(
                schema::U64_VECTORS.map(|name| get(&at, schema::net_vec::<u64>(name), (netuid,))),
            );
            let (u16s, bools, u64s) = futures::try_join!(u16s, bools, u64s)?;
            let [incentive, dividends, consensus, validator_trust] =
                <[Vec<u16>; 4]>::try_from(u16s).expect("four u16 vectors");
            let [active, permit] = <[Vec<bool>; 2]>::try_from(bools).expect("two bool vectors");
            let [emission, last_update] = <[Vec<u64>; 2]>::try_from(u64s).expect("two u64 vectors");

            let (active, permit, last_update) = (&active, &permit, &last_update);
            let (incentive, dividends) = (&incentive, &dividends);
            let (consensus, validator_trust, emission) = (&consensus, &validator_trust, &emission);
            let neurons = futures::stream::iter(keys_at(&at, netuid).await?)
                .map(|(uid, hotkey)| {
                    let at = &at;
                    async move {
                        let (coldkey, stake, registered_at, axon) = futures::try_join!(
                            get(at, schema::owner(), (hotkey,)),
                            get(at, schema::total_hotkey_alpha(), (hotkey, netuid)),
                            get(at, schema::block_at_registration(), (netuid, uid)),
                            try_get(at, schema::axons(), (netuid, hotkey)),
                        )?;
                        Ok::<_, ReadError>(Neuron {
                            uid,
                            hotkey,
                            coldkey,
                            stake,
                            validator_permit: at_uid(permit, uid),
                            active: at_uid(active, uid),
                            last_update: at_uid(last_update, uid),
                            registered_at,
                            incentive: at_uid(incentive, uid),
                            dividends: at_uid(dividends, uid),
                            consensus: at_uid(consensus, uid),
                            validator_trust: at_uid(validator_trust, uid),
                            emission: at_uid(emission, uid),
                            axon: axon.filter(|a| a.block != 0 || a.ip != 0),
                        })
                    }
                })
                .buffered(CONCURRENCY)
                .try_collect::<Vec<_>>()
                .await?;
            Ok(Metagraph {
                netuid,
                block: at.block_number(),
                block_hash: at.block_hash(),
                neurons,
            })
        })
        .await?
    }
}

/// Every `(uid, hotkey)` of `netuid` from one paged iteration of `Keys`, in uid order.
async fn keys_at(at: &AtBlock, netuid: u16) -> Result<Vec<(u16, AccountId32)>, ReadError> {
    let err = |e: String| ReadError::Storage {
        item: "SubtensorModule.Keys".into(),
        reason: e,
    };
    let mut entries = at
        .storage()
        .iter(schema::keys(), (netuid,))
        .await
        .map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|e| err(e.to_string()))?;
        let uid = entry
            .key()
            .map_err(|e| err(e.to_string()))?
            .part(1)
            .and_then(|p| p.decode_as::<u16>().ok().flatten())
            .ok_or_else(|| err("key without a uid".into()))?;
        let hotkey = entry.value().decode().map_err(|e| err(e.to_string()))?;
        out.push((uid, hotkey));
    }
    out.sort_unstable_by_key(|&(uid, _)| uid);
    Ok(out)
}

impl Client {
    /// The weights `uid` last set on `netuid` (mechanism 0), as `(uid, u16 weight)`.
    pub async fn weights_of(
        &self,
        netuid: u16,
        uid: u16,
        sel: BlockSel,
    ) -> Result<Vec<(u16, u16)>, ReadError> {
        let at = self.at(sel).await?;
        self.timed(crate::read::get(
            &at,
            crate::schema::weights(),
            (netuid, uid),
        ))
        .await?
    }
}
