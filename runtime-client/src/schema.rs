//! Every runtime call, storage item and runtime API this crate uses, with the Rust types it
//! encodes and decodes them as. Addresses are dynamic (checked against the node's metadata at
//! use), so runtime upgrades that keep these shapes need no rebuild. The offline test checks
//! each one against finney's metadata.

use subxt::dynamic::Value;
use subxt::ext::scale_value::Composite;
use subxt::storage::{DynamicAddress, dynamic as storage};
use subxt::transactions::{DynamicPayload, dynamic as call};
use subxt::utils::{AccountId32, H256};

const SUBTENSOR: &str = "SubtensorModule";

/// A subnet-wide vector (`Active`, `Incentive`, …) keyed by netuid.
pub type NetVec<T> = DynamicAddress<(u16,), Vec<T>>;

/// The u16 subnet vectors the metagraph reads.
pub const U16_VECTORS: [&str; 4] = ["Incentive", "Dividends", "Consensus", "ValidatorTrust"];
/// The bool subnet vectors the metagraph reads.
pub const BOOL_VECTORS: [&str; 2] = ["Active", "ValidatorPermit"];
/// The u64 subnet vectors the metagraph reads.
pub const U64_VECTORS: [&str; 2] = ["Emission", "LastUpdate"];
/// Per-subnet u16 hyperparameters.
pub const U16_PARAMS: [&str; 7] = [
    "Tempo",
    "MinAllowedWeights",
    "MaxWeightsLimit",
    "ActivityCutoff",
    "MaxAllowedUids",
    "MaxAllowedValidators",
    "SubnetworkN",
];
/// Per-subnet u64 hyperparameters.
pub const U64_PARAMS: [&str; 3] = ["WeightsSetRateLimit", "WeightsVersionKey", "Burn"];

/// `SubtensorModule.<name>`: a per-subnet vector.
pub fn net_vec<T>(name: &str) -> NetVec<T>
where
    T: subxt::ext::scale_decode::DecodeAsType,
{
    storage(SUBTENSOR, name)
}

/// `SubtensorModule.<name>`: a per-subnet u16 parameter.
pub fn net_u16(name: &str) -> DynamicAddress<(u16,), u16> {
    storage(SUBTENSOR, name)
}

/// `SubtensorModule.<name>`: a per-subnet u64 parameter.
pub fn net_u64(name: &str) -> DynamicAddress<(u16,), u64> {
    storage(SUBTENSOR, name)
}

/// `SubtensorModule.Weights(netuid, uid)`: the uid's last weights as `(uid, u16 weight)`.
pub fn weights() -> DynamicAddress<(u16, u16), Vec<(u16, u16)>> {
    storage(SUBTENSOR, "Weights")
}

/// `SubtensorModule.NetworksAdded(netuid)`.
pub fn networks_added() -> DynamicAddress<(u16,), bool> {
    storage(SUBTENSOR, "NetworksAdded")
}

/// `SubtensorModule.CommitRevealWeightsEnabled(netuid)`.
pub fn commit_reveal_enabled() -> DynamicAddress<(u16,), bool> {
    storage(SUBTENSOR, "CommitRevealWeightsEnabled")
}

/// `SubtensorModule.RevealPeriodEpochs(netuid)`.
pub fn reveal_period() -> DynamicAddress<(u16,), u64> {
    storage(SUBTENSOR, "RevealPeriodEpochs")
}

/// `SubtensorModule.CommitRevealWeightsVersion`: which commit-reveal scheme commits must use
/// (absent on chains with only the hash scheme).
pub fn commit_reveal_version() -> DynamicAddress<(), u16> {
    storage(SUBTENSOR, "CommitRevealWeightsVersion")
}

/// `SubtensorModule.StakeThreshold`.
pub fn stake_threshold() -> DynamicAddress<(), u64> {
    storage(SUBTENSOR, "StakeThreshold")
}

/// `SubtensorModule.Keys(netuid, uid)` → hotkey.
pub fn keys() -> DynamicAddress<(u16, u16), AccountId32> {
    storage(SUBTENSOR, "Keys")
}

/// `SubtensorModule.Uids(netuid, hotkey)` → uid.
pub fn uids() -> DynamicAddress<(u16, AccountId32), u16> {
    storage(SUBTENSOR, "Uids")
}

/// `SubtensorModule.Owner(hotkey)` → coldkey.
pub fn owner() -> DynamicAddress<(AccountId32,), AccountId32> {
    storage(SUBTENSOR, "Owner")
}

/// `SubtensorModule.SubnetOwnerHotkey(netuid)`.
pub fn subnet_owner_hotkey() -> DynamicAddress<(u16,), AccountId32> {
    storage(SUBTENSOR, "SubnetOwnerHotkey")
}

/// `SubtensorModule.TotalHotkeyAlpha(hotkey, netuid)` → stake in rao.
pub fn total_hotkey_alpha() -> DynamicAddress<(AccountId32, u16), u64> {
    storage(SUBTENSOR, "TotalHotkeyAlpha")
}

/// `SubtensorModule.BlockAtRegistration(netuid, uid)`.
pub fn block_at_registration() -> DynamicAddress<(u16, u16), u64> {
    storage(SUBTENSOR, "BlockAtRegistration")
}

/// `SubtensorModule.Axons(netuid, hotkey)` → `AxonInfo`.
pub fn axons() -> DynamicAddress<(u16, AccountId32), AxonInfo> {
    storage(SUBTENSOR, "Axons")
}

/// A pending v2 commit: (hash, commit epoch, commit block, reveal block).
pub type WeightCommit = (H256, u64, u64, u64);

/// `SubtensorModule.WeightCommits(netuid index, hotkey)` → pending v2 commits
/// `(hash, commit epoch, commit block, reveal block)`.
pub fn weight_commits() -> DynamicAddress<(u16, AccountId32), Vec<WeightCommit>> {
    storage(SUBTENSOR, "WeightCommits")
}

/// A timelocked commit as stored: (committer, commit block, ciphertext, reveal round).
pub type TimelockedEntry = (AccountId32, u64, Vec<u8>, u64);

/// `SubtensorModule.TimelockedWeightCommits(netuid index, epoch)` → the epoch's timelocked
/// commits, in commit order.
pub fn timelocked_weight_commits() -> DynamicAddress<(u16, u64), Vec<TimelockedEntry>> {
    storage(SUBTENSOR, "TimelockedWeightCommits")
}

/// `Drand.BeaconConfig`: the beacon the chain's pulses come from.
pub fn beacon_config() -> DynamicAddress<(), BeaconConfig> {
    storage("Drand", "BeaconConfig")
}

/// `Drand.LastStoredRound`.
pub fn last_stored_round() -> DynamicAddress<(), u64> {
    storage("Drand", "LastStoredRound")
}

/// `Drand.Pulses(round)`.
pub fn pulses() -> DynamicAddress<(u64,), Pulse> {
    storage("Drand", "Pulses")
}

/// The fields of `Drand.BeaconConfig` the client uses (the hashes and ids are not read).
#[derive(Debug, Clone, PartialEq, Eq, subxt::ext::scale_decode::DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct BeaconConfig {
    /// The beacon's public key (compressed BLS12-381 G2, 96 bytes).
    pub public_key: Vec<u8>,
    /// Seconds between rounds.
    pub period: u32,
    /// Unix seconds of round 1.
    pub genesis_time: u32,
}

/// `Drand.Pulse`: one round's randomness and signature.
#[derive(Debug, Clone, PartialEq, Eq, subxt::ext::scale_decode::DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct Pulse {
    /// The round.
    pub round: u64,
    /// sha256 of the signature.
    pub randomness: Vec<u8>,
    /// The beacon's signature of the round (compressed G1).
    pub signature: Vec<u8>,
}

/// `Commitments.CommitmentOf(netuid, hotkey)`, decoded by [`crate::commitments`] from its bytes.
pub fn commitment_of() -> DynamicAddress<(u16, AccountId32), Value> {
    storage("Commitments", "CommitmentOf")
}

/// `Timestamp.Now`, in unix milliseconds.
pub fn timestamp_now() -> DynamicAddress<(), u64> {
    storage("Timestamp", "Now")
}

/// `SubtensorModule.AxonInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, subxt::ext::scale_decode::DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct AxonInfo {
    /// Block the axon was served at.
    pub block: u64,
    /// Software version the neuron reported.
    pub version: u32,
    /// IPv4 (in the low 32 bits) or IPv6 address.
    pub ip: u128,
    /// TCP port.
    pub port: u16,
    /// 4 or 6.
    pub ip_type: u8,
    /// Protocol tag.
    pub protocol: u8,
    /// Reserved.
    pub placeholder1: u8,
    /// Reserved.
    pub placeholder2: u8,
}

/// `SubtensorModule.burned_register(netuid, hotkey)` (signed by the coldkey).
pub fn burned_register(netuid: u16, hotkey: AccountId32) -> DynamicPayload<(u16, AccountId32)> {
    call(SUBTENSOR, "burned_register", (netuid, hotkey))
}

/// `SubtensorModule.add_stake(hotkey, netuid, amount)` (signed by the coldkey).
pub fn add_stake(
    hotkey: AccountId32,
    netuid: u16,
    amount: u64,
) -> DynamicPayload<(AccountId32, u16, u64)> {
    call(SUBTENSOR, "add_stake", (hotkey, netuid, amount))
}

/// The arguments of `serve_axon`.
pub type ServeAxonArgs = (u16, u32, u128, u16, u8, u8, u8, u8);

/// `SubtensorModule.serve_axon(netuid, version, ip, port, ip_type, protocol, 0, 0)`.
pub fn serve_axon(args: ServeAxonArgs) -> DynamicPayload<ServeAxonArgs> {
    call(SUBTENSOR, "serve_axon", args)
}

/// `SubtensorModule.set_weights(netuid, dests, weights, version_key)`.
pub fn set_weights(
    netuid: u16,
    uids: Vec<u16>,
    values: Vec<u16>,
    version_key: u64,
) -> DynamicPayload<(u16, Vec<u16>, Vec<u16>, u64)> {
    call(
        SUBTENSOR,
        "set_weights",
        (netuid, uids, values, version_key),
    )
}

/// `SubtensorModule.commit_weights(netuid, hash)`.
pub fn commit_weights(netuid: u16, hash: [u8; 32]) -> DynamicPayload<(u16, H256)> {
    call(SUBTENSOR, "commit_weights", (netuid, H256(hash)))
}

/// The arguments of `commit_timelocked_weights`.
pub type TimelockedCommitArgs = (u16, Vec<u8>, u64, u16);

/// `SubtensorModule.commit_timelocked_weights(netuid, commit, reveal_round,
/// commit_reveal_version)`.
pub fn commit_timelocked_weights(
    args: TimelockedCommitArgs,
) -> DynamicPayload<TimelockedCommitArgs> {
    call(SUBTENSOR, "commit_timelocked_weights", args)
}

/// The arguments of `reveal_weights`.
pub type RevealArgs = (u16, Vec<u16>, Vec<u16>, Vec<u16>, u64);

/// `SubtensorModule.reveal_weights(netuid, uids, values, salt, version_key)`.
pub fn reveal_weights(args: RevealArgs) -> DynamicPayload<RevealArgs> {
    call(SUBTENSOR, "reveal_weights", args)
}

/// `Commitments.set_commitment(netuid, {fields: [Raw<len>(bytes)]})`: one raw field of at most
/// 128 bytes.
pub fn set_commitment(netuid: u16, bytes: &[u8]) -> DynamicPayload<(u16, Value)> {
    let field = Value::variant(
        format!("Raw{}", bytes.len()),
        Composite::unnamed([Value::from_bytes(bytes)]),
    );
    let info = Value::named_composite([("fields", Value::unnamed_composite([field]))]);
    call("Commitments", "set_commitment", (netuid, info))
}

/// `Balances.transfer_keep_alive(dest, value)`.
pub fn transfer_keep_alive(
    dest: AccountId32,
    value: u64,
) -> DynamicPayload<(subxt::utils::MultiAddress<AccountId32, ()>, u64)> {
    call(
        "Balances",
        "transfer_keep_alive",
        (subxt::utils::MultiAddress::Id(dest), value),
    )
}

/// `TransactionPaymentApi.query_info(uxt, len)` → `RuntimeDispatchInfo` (weight, class,
/// partial_fee as u64 rao). `uxt` is the extrinsic bytes without a length prefix.
pub fn query_info(uxt: Vec<u8>) -> subxt::runtime_apis::DynamicPayload<(Value, u32), Value> {
    let len = uxt.len() as u32;
    subxt::dynamic::runtime_api_call(
        "TransactionPaymentApi",
        "query_info",
        (Value::from_bytes(uxt), len),
    )
}

/// `System.Account(who)` → `AccountInfo` (nonce, refcounts, `data.free` …).
pub fn system_account() -> DynamicAddress<(AccountId32,), Value> {
    storage("System", "Account")
}
