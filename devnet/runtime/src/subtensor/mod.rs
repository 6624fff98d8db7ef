//! `SubtensorModule`: the subset of subtensor's subnet pallet a subnet touches, with subtensor's
//! call indices, argument names and types, storage names, hashers and value types, event and
//! error names (checked against finney's metadata by `tests/finney_shape.rs`).
//!
//! Present: subnets created at genesis or by `register_network` + `start_call` ([`network`]'s
//! departures), `burned_register`, `add_stake`, `serve_axon`,
//! `set_weights` with subtensor's validation, a Yuma epoch (`kiln-yuma`) every tempo, and the
//! neuron and metagraph views of subtensor's runtime APIs ([`info`]).
//!
//! Simplifications, each a departure from subtensor that a client can observe:
//! - the registration burn is a fixed per-subnet price (no decay or increase), and a full subnet
//!   refuses registration with `TooManyRegistrationsThisBlock` instead of pruning a uid;
//! - stake is alpha bought 1:1 with TAO (no pool, no root stake, no delegation);
//! - each epoch emits 1 TAO per block since the previous one, all of it to incentive and
//!   dividends (no owner cut), credited as stake to the earning hotkeys.

// `serve_axon` takes subtensor's eight arguments; FRAME's call macro copies the signature.
#![allow(clippy::too_many_arguments)]

mod commit_reveal;
pub mod dynamic;
mod epoch;
pub mod fixed;
pub mod hyperparams;
pub mod identity;
pub mod info;
mod network;
pub mod neurons;
mod sdk_storage;
mod stake;
pub mod stake_info;
mod timelocked;
mod weights;

pub use timelocked::{DEFAULT_COMMIT_REVEAL_VERSION, MAX_COMMIT_BYTES};

pub use pallet::*;

use frame_support::pallet_macros::import_section;

/// Where timelocked commits get their round signatures.
pub trait BeaconPulses {
    /// The beacon's signature of `round`, once its pulse is on chain.
    fn signature(round: u64) -> Option<alloc::vec::Vec<u8>>;
}

/// A served endpoint, as subtensor stores it.
#[derive(
    codec::Encode, codec::Decode, scale_info::TypeInfo, Clone, Debug, Default, PartialEq, Eq,
)]
pub struct AxonInfo {
    /// Block it was served at.
    pub block: u64,
    /// Client version.
    pub version: u32,
    /// IPv4 (as u32 widened) or IPv6.
    pub ip: u128,
    /// Port.
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

#[import_section(sdk_storage::sdk_storage)]
#[frame_support::pallet]
pub mod pallet {
    use super::AxonInfo;
    use alloc::collections::VecDeque;
    use alloc::vec::Vec;
    use frame_support::pallet_prelude::*;
    use frame_support::traits::fungible::{Inspect, Mutate};
    use frame_support::traits::tokens::{Fortitude, Precision, Preservation};
    use frame_system::pallet_prelude::*;
    use sp_core::H256;
    use sp_runtime::SaturatedConversion;
    use sp_runtime::traits::TrailingZeroInput;

    #[pallet::pallet]
    #[pallet::without_storage_info]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// TAO balances (burned on registration and staking).
        type Currency: Mutate<Self::AccountId> + Inspect<Self::AccountId, Balance = u64>;
        /// The drand pulses timelocked commits open with.
        type Beacon: super::BeaconPulses;
    }

    #[pallet::type_value]
    pub fn DefaultAccount<T: Config>() -> T::AccountId {
        T::AccountId::decode(&mut TrailingZeroInput::zeroes()).expect("zero bytes decode")
    }
    #[pallet::type_value]
    pub fn DefaultTempo() -> u16 {
        360
    }
    #[pallet::type_value]
    pub fn DefaultKappa() -> u16 {
        32_767
    }
    #[pallet::type_value]
    pub fn DefaultMaxAllowedUids() -> u16 {
        256
    }
    #[pallet::type_value]
    pub fn DefaultImmunityPeriod() -> u16 {
        4096
    }
    #[pallet::type_value]
    pub fn DefaultActivityCutoff() -> u16 {
        5000
    }
    #[pallet::type_value]
    pub fn DefaultMaxWeightsLimit() -> u16 {
        u16::MAX
    }
    #[pallet::type_value]
    pub fn DefaultMinAllowedWeights() -> u16 {
        1024
    }
    #[pallet::type_value]
    pub fn DefaultMaxAllowedValidators() -> u16 {
        128
    }
    #[pallet::type_value]
    pub fn DefaultBondsMovingAverage() -> u64 {
        900_000
    }
    #[pallet::type_value]
    pub fn DefaultBondsPenalty() -> u16 {
        u16::MAX
    }
    #[pallet::type_value]
    pub fn DefaultWeightsSetRateLimit() -> u64 {
        100
    }
    #[pallet::type_value]
    pub fn DefaultTrue() -> bool {
        true
    }
    #[pallet::type_value]
    pub fn DefaultBurn() -> u64 {
        100_000_000
    }

    /// Hotkey → owning coldkey.
    #[pallet::storage]
    pub type Owner<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId, ValueQuery, DefaultAccount<T>>;
    /// Stake (alpha) held by a hotkey on a subnet.
    #[pallet::storage]
    pub type TotalHotkeyAlpha<T: Config> =
        StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Identity, u16, u64, ValueQuery>;
    /// Global minimum stake to set weights.
    #[pallet::storage]
    pub type StakeThreshold<T> = StorageValue<_, u64, ValueQuery>;
    #[pallet::storage]
    pub type NetworksAdded<T> = StorageMap<_, Identity, u16, bool, ValueQuery>;
    #[pallet::storage]
    pub type NetworkRegistrationAllowed<T> =
        StorageMap<_, Identity, u16, bool, ValueQuery, DefaultTrue>;
    #[pallet::storage]
    pub type SubnetworkN<T> = StorageMap<_, Identity, u16, u16, ValueQuery>;
    #[pallet::storage]
    pub type Tempo<T> = StorageMap<_, Identity, u16, u16, ValueQuery, DefaultTempo>;
    #[pallet::storage]
    pub type LastMechansimStepBlock<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    #[pallet::storage]
    pub type SubnetOwner<T: Config> =
        StorageMap<_, Identity, u16, T::AccountId, ValueQuery, DefaultAccount<T>>;
    #[pallet::storage]
    pub type SubnetOwnerHotkey<T: Config> =
        StorageMap<_, Identity, u16, T::AccountId, ValueQuery, DefaultAccount<T>>;
    #[pallet::storage]
    pub type Kappa<T> = StorageMap<_, Identity, u16, u16, ValueQuery, DefaultKappa>;
    #[pallet::storage]
    pub type MaxAllowedUids<T> =
        StorageMap<_, Identity, u16, u16, ValueQuery, DefaultMaxAllowedUids>;
    #[pallet::storage]
    pub type ImmunityPeriod<T> =
        StorageMap<_, Identity, u16, u16, ValueQuery, DefaultImmunityPeriod>;
    #[pallet::storage]
    pub type ActivityCutoff<T> =
        StorageMap<_, Identity, u16, u16, ValueQuery, DefaultActivityCutoff>;
    #[pallet::storage]
    pub type MaxWeightsLimit<T> =
        StorageMap<_, Identity, u16, u16, ValueQuery, DefaultMaxWeightsLimit>;
    #[pallet::storage]
    pub type WeightsVersionKey<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    #[pallet::storage]
    pub type MinAllowedWeights<T> =
        StorageMap<_, Identity, u16, u16, ValueQuery, DefaultMinAllowedWeights>;
    #[pallet::storage]
    pub type MaxAllowedValidators<T> =
        StorageMap<_, Identity, u16, u16, ValueQuery, DefaultMaxAllowedValidators>;
    #[pallet::storage]
    pub type BondsMovingAverage<T> =
        StorageMap<_, Identity, u16, u64, ValueQuery, DefaultBondsMovingAverage>;
    #[pallet::storage]
    pub type BondsPenalty<T> = StorageMap<_, Identity, u16, u16, ValueQuery, DefaultBondsPenalty>;
    #[pallet::storage]
    pub type WeightsSetRateLimit<T> =
        StorageMap<_, Identity, u16, u64, ValueQuery, DefaultWeightsSetRateLimit>;
    #[pallet::storage]
    pub type CommitRevealWeightsEnabled<T> =
        StorageMap<_, Identity, u16, bool, ValueQuery, DefaultTrue>;
    #[pallet::storage]
    pub type Burn<T> = StorageMap<_, Identity, u16, u64, ValueQuery, DefaultBurn>;
    #[pallet::storage]
    pub type StakeWeight<T> = StorageMap<_, Identity, u16, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Uids<T: Config> =
        StorageDoubleMap<_, Identity, u16, Blake2_128Concat, T::AccountId, u16, OptionQuery>;
    #[pallet::storage]
    pub type Keys<T: Config> = StorageDoubleMap<
        _,
        Identity,
        u16,
        Identity,
        u16,
        T::AccountId,
        ValueQuery,
        DefaultAccount<T>,
    >;
    #[pallet::storage]
    pub type Active<T> = StorageMap<_, Identity, u16, Vec<bool>, ValueQuery>;
    #[pallet::storage]
    pub type Rank<T> = StorageMap<_, Identity, u16, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Trust<T> = StorageMap<_, Identity, u16, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Consensus<T> = StorageMap<_, Identity, u16, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Incentive<T> = StorageMap<_, Identity, u16, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Dividends<T> = StorageMap<_, Identity, u16, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Emission<T> = StorageMap<_, Identity, u16, Vec<u64>, ValueQuery>;
    #[pallet::storage]
    pub type LastUpdate<T> = StorageMap<_, Identity, u16, Vec<u64>, ValueQuery>;
    #[pallet::storage]
    pub type ValidatorTrust<T> = StorageMap<_, Identity, u16, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type PruningScores<T> = StorageMap<_, Identity, u16, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type ValidatorPermit<T> = StorageMap<_, Identity, u16, Vec<bool>, ValueQuery>;
    /// Weights by (netuid + mechanism·4096, uid).
    #[pallet::storage]
    pub type Weights<T> =
        StorageDoubleMap<_, Identity, u16, Identity, u16, Vec<(u16, u16)>, ValueQuery>;
    /// Bonds by (netuid + mechanism·4096, uid).
    #[pallet::storage]
    pub type Bonds<T> =
        StorageDoubleMap<_, Identity, u16, Identity, u16, Vec<(u16, u16)>, ValueQuery>;
    #[pallet::storage]
    pub type BlockAtRegistration<T> =
        StorageDoubleMap<_, Identity, u16, Identity, u16, u64, ValueQuery>;
    /// Unrevealed weight commits: (hash, commit epoch, commit block, 0).
    #[pallet::storage]
    pub type WeightCommits<T: Config> = StorageDoubleMap<
        _,
        Twox64Concat,
        u16,
        Twox64Concat,
        T::AccountId,
        VecDeque<(H256, u64, u64, u64)>,
        OptionQuery,
    >;
    /// Timelocked weight commits per (netuid, commit epoch): (hotkey, commit block, ciphertext,
    /// drand round).
    #[pallet::storage]
    pub type TimelockedWeightCommits<T: Config> = StorageDoubleMap<
        _,
        Twox64Concat,
        u16,
        Twox64Concat,
        u64,
        VecDeque<(
            T::AccountId,
            u64,
            BoundedVec<u8, ConstU32<{ super::MAX_COMMIT_BYTES }>>,
            u64,
        )>,
        ValueQuery,
    >;
    #[pallet::type_value]
    pub fn DefaultCommitRevealWeightsVersion() -> u16 {
        super::DEFAULT_COMMIT_REVEAL_VERSION
    }
    /// The commit-reveal version `commit_timelocked_weights` must name.
    #[pallet::storage]
    pub type CommitRevealWeightsVersion<T> =
        StorageValue<_, u16, ValueQuery, DefaultCommitRevealWeightsVersion>;
    #[pallet::type_value]
    pub fn DefaultRevealPeriod() -> u64 {
        1
    }
    /// Epochs between a commit and its reveal.
    #[pallet::storage]
    pub type RevealPeriodEpochs<T> =
        StorageMap<_, Twox64Concat, u16, u64, ValueQuery, DefaultRevealPeriod>;
    #[pallet::type_value]
    pub fn DefaultNetworkMinLockCost() -> u64 {
        1_000_000_000_000
    }
    #[pallet::type_value]
    pub fn DefaultSubnetLimit() -> u16 {
        128
    }
    /// Rao locked (burned here) by `register_network`.
    #[pallet::storage]
    pub type NetworkMinLockCost<T> = StorageValue<_, u64, ValueQuery, DefaultNetworkMinLockCost>;
    /// Most subnets at once (root not counted).
    #[pallet::storage]
    pub type SubnetLimit<T> = StorageValue<_, u16, ValueQuery, DefaultSubnetLimit>;
    /// Subnets created by `register_network`.
    #[pallet::storage]
    pub type TotalNetworks<T> = StorageValue<_, u16, ValueQuery>;
    /// Blocks after registration before `start_call` is allowed.
    #[pallet::storage]
    pub type StartCallDelay<T> = StorageValue<_, u64, ValueQuery>;
    #[pallet::storage]
    pub type NetworkRegisteredAt<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    #[pallet::storage]
    pub type SubnetLocked<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    /// The first block a subnet emits (and runs epochs); set by `start_call`.
    #[pallet::storage]
    pub type FirstEmissionBlockNumber<T> = StorageMap<_, Identity, u16, u64, OptionQuery>;
    #[pallet::storage]
    pub type Axons<T: Config> =
        StorageDoubleMap<_, Identity, u16, Blake2_128Concat, T::AccountId, AxonInfo, OptionQuery>;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// A subnet was created: (netuid, modality).
        #[codec(index = 0)]
        NetworkAdded(u16, u16),
        /// Stake added: (coldkey, hotkey, tao, alpha, netuid, fee).
        #[codec(index = 2)]
        StakeAdded(T::AccountId, T::AccountId, u64, u64, u16, u64),
        /// Weights stored: (netuid index, uid).
        #[codec(index = 5)]
        WeightsSet(u16, u16),
        /// A hotkey registered: (netuid, uid, hotkey).
        #[codec(index = 6)]
        NeuronRegistered(u16, u16, T::AccountId),
        /// An axon was served: (netuid, hotkey).
        #[codec(index = 28)]
        AxonServed(u16, T::AccountId),
        /// A weight commit was stored: (hotkey, netuid index, hash).
        #[codec(index = 83)]
        WeightsCommitted(T::AccountId, u16, H256),
        /// A weight commit was revealed: (hotkey, netuid index, hash).
        #[codec(index = 84)]
        WeightsRevealed(T::AccountId, u16, H256),
        /// A subnet's first emission block was set: (netuid, block).
        #[codec(index = 93)]
        FirstEmissionBlockNumberSet(u16, u64),
        /// The commit-reveal version was set.
        #[codec(index = 104)]
        CommitRevealVersionSet(u16),
        /// A timelocked commit was stored: (hotkey, netuid index, BLAKE2-256 of the
        /// ciphertext, drand round).
        #[codec(index = 105)]
        TimelockedWeightsCommitted(T::AccountId, u16, H256, u64),
        /// A timelocked commit was opened and its weights applied: (netuid index, hotkey).
        #[codec(index = 106)]
        TimelockedWeightsRevealed(u16, T::AccountId),
    }

    #[pallet::error]
    pub enum Error<T> {
        InvalidIpType,
        InvalidIpAddress,
        InvalidPort,
        HotKeyNotRegisteredInSubNet,
        NotEnoughStakeToSetWeights,
        NotEnoughBalanceToStake,
        NeuronNoValidatorPermit,
        WeightVecNotEqualSize,
        DuplicateUids,
        UidVecContainInvalidOne,
        WeightVecLengthIsLow,
        HotKeyAlreadyRegisteredInSubNet,
        MaxWeightExceeded,
        SettingWeightsTooFast,
        IncorrectWeightVersionKey,
        UidsLengthExceedUidsInSubNet,
        CanNotSetRootNetworkWeights,
        CommitRevealEnabled,
        SubnetNotExists,
        NonAssociatedColdKey,
        SubNetRegistrationDisabled,
        TooManyRegistrationsThisBlock,
        CommitRevealDisabled,
        CommittingWeightsTooFast,
        TooManyUnrevealedCommits,
        NoWeightsCommitFound,
        InvalidRevealCommitHashNotMatch,
        RevealTooEarly,
        ExpiredWeightCommit,
        SubnetLimitReached,
        CannotAffordLockCost,
        FirstEmissionBlockNumberAlreadySet,
        NeedWaitingMoreBlocksToStarCall,
        IncorrectCommitRevealVersion,
        MechanismDoesNotExist,
        /// The limit price is below the price the order would execute at.
        SlippageTooHigh,
        /// No part of the order executes within the limit price.
        ZeroMaxStakeAmount,
    }

    /// A subnet created at genesis.
    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct GenesisSubnet<AccountId> {
        /// Its netuid (not 0, the root network).
        pub netuid: u16,
        /// Owner coldkey.
        pub owner: AccountId,
        /// Owner hotkey (registered as uid 0).
        pub owner_hotkey: AccountId,
        /// Blocks per epoch.
        pub tempo: u16,
        /// Registration burn in rao.
        pub burn: u64,
        /// Commit-reveal on or off.
        pub commit_reveal: bool,
        /// Blocks between weight updates of one hotkey.
        pub weights_rate_limit: u64,
        /// Minimum weights per vector.
        pub min_allowed_weights: u16,
    }

    #[pallet::genesis_config]
    #[derive(frame_support::DefaultNoBound)]
    pub struct GenesisConfig<T: Config> {
        /// Subnets to create.
        pub subnets: Vec<GenesisSubnet<T::AccountId>>,
        /// `CommitRevealWeightsVersion` (`None`: 4, subtensor's current); below 3, commit-reveal
        /// subnets use hash commits (`commit_weights` / `reveal_weights`) in clients.
        #[serde(default)]
        pub commit_reveal_version: Option<u16>,
    }

    #[pallet::genesis_build]
    impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
        fn build(&self) {
            if let Some(v) = self.commit_reveal_version {
                CommitRevealWeightsVersion::<T>::put(v);
            }
            for s in &self.subnets {
                NetworksAdded::<T>::insert(s.netuid, true);
                Pallet::<T>::init_subnet_metadata(s.netuid);
                FirstEmissionBlockNumber::<T>::insert(s.netuid, 0);
                Tempo::<T>::insert(s.netuid, s.tempo);
                Burn::<T>::insert(s.netuid, s.burn);
                CommitRevealWeightsEnabled::<T>::insert(s.netuid, s.commit_reveal);
                WeightsSetRateLimit::<T>::insert(s.netuid, s.weights_rate_limit);
                MinAllowedWeights::<T>::insert(s.netuid, s.min_allowed_weights);
                SubnetOwner::<T>::insert(s.netuid, s.owner.clone());
                SubnetOwnerHotkey::<T>::insert(s.netuid, s.owner_hotkey.clone());
                Pallet::<T>::set_owner(&s.owner_hotkey, &s.owner);
                Pallet::<T>::append_neuron(s.netuid, &s.owner_hotkey, 0);
            }
        }
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        fn on_initialize(n: BlockNumberFor<T>) -> Weight {
            let block: u64 = n.saturated_into();
            let nets: Vec<u16> = NetworksAdded::<T>::iter()
                .filter(|(_, added)| *added)
                .map(|(netuid, _)| netuid)
                .collect();
            for netuid in nets.into_iter().filter(|n| Self::emits(*n, block)) {
                Self::reveal_timelocked(netuid);
                Self::maybe_run_epoch(netuid, block);
                let since = block.saturating_sub(LastMechansimStepBlock::<T>::get(netuid));
                BlocksSinceLastStep::<T>::insert(netuid, since);
            }
            Weight::zero()
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Sets the caller hotkey's weights on `netuid` (values are max-upscaled to u16).
        #[pallet::call_index(0)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn set_weights(
            origin: OriginFor<T>,
            netuid: u16,
            dests: Vec<u16>,
            weights: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            if CommitRevealWeightsEnabled::<T>::get(netuid) {
                return Err(Error::<T>::CommitRevealEnabled.into());
            }
            Self::do_set_weights(hotkey, netuid, dests, weights, version_key, true)
        }

        /// [`Self::set_weights`] for a mechanism of the subnet; this chain has only mechanism 0.
        #[pallet::call_index(119)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn set_mechanism_weights(
            origin: OriginFor<T>,
            netuid: u16,
            mecid: u8,
            dests: Vec<u16>,
            weights: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            ensure!(mecid == 0, Error::<T>::MechanismDoesNotExist);
            Self::set_weights(origin, netuid, dests, weights, version_key)
        }

        /// [`Self::commit_weights`] for a mechanism (only mechanism 0 here; its commit hash is
        /// the plain one, as subtensor's storage index of mechanism 0 is the netuid).
        #[pallet::call_index(115)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn commit_mechanism_weights(
            origin: OriginFor<T>,
            netuid: u16,
            mecid: u8,
            commit_hash: H256,
        ) -> DispatchResult {
            ensure!(mecid == 0, Error::<T>::MechanismDoesNotExist);
            Self::commit_weights(origin, netuid, commit_hash)
        }

        /// [`Self::reveal_weights`] for a mechanism (only mechanism 0 here).
        #[pallet::call_index(116)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn reveal_mechanism_weights(
            origin: OriginFor<T>,
            netuid: u16,
            mecid: u8,
            uids: Vec<u16>,
            values: Vec<u16>,
            salt: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            ensure!(mecid == 0, Error::<T>::MechanismDoesNotExist);
            Self::reveal_weights(origin, netuid, uids, values, salt, version_key)
        }

        /// Commits to a weight vector: `commit_hash` is BLAKE2-256 of the SCALE encoding of
        /// `(hotkey, netuid, uids, values, salt, version_key)`.
        #[pallet::call_index(96)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn commit_weights(
            origin: OriginFor<T>,
            netuid: u16,
            commit_hash: H256,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::do_commit_weights(hotkey, netuid, commit_hash)
        }

        /// Commits weights encrypted to drand round `reveal_round` (commit-reveal v4); the
        /// chain opens and applies them in the reveal epoch.
        #[pallet::call_index(113)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn commit_timelocked_weights(
            origin: OriginFor<T>,
            netuid: u16,
            commit: BoundedVec<u8, ConstU32<{ crate::subtensor::MAX_COMMIT_BYTES }>>,
            reveal_round: u64,
            commit_reveal_version: u16,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_commit_timelocked_weights(
                who,
                netuid,
                commit,
                reveal_round,
                commit_reveal_version,
            )
        }

        /// [`Self::commit_timelocked_weights`] for a mechanism of the subnet; this chain has
        /// only mechanism 0.
        #[pallet::call_index(118)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn commit_timelocked_mechanism_weights(
            origin: OriginFor<T>,
            netuid: u16,
            mecid: u8,
            commit: BoundedVec<u8, ConstU32<{ crate::subtensor::MAX_COMMIT_BYTES }>>,
            reveal_round: u64,
            commit_reveal_version: u16,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            ensure!(mecid == 0, Error::<T>::MechanismDoesNotExist);
            Self::do_commit_timelocked_weights(
                who,
                netuid,
                commit,
                reveal_round,
                commit_reveal_version,
            )
        }

        /// Reveals a committed weight vector one reveal period after its commit epoch.
        #[pallet::call_index(97)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn reveal_weights(
            origin: OriginFor<T>,
            netuid: u16,
            uids: Vec<u16>,
            values: Vec<u16>,
            salt: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::do_reveal_weights(hotkey, netuid, uids, values, salt, version_key)
        }

        /// Adds `amount_staked` rao of the caller coldkey's TAO as stake to `hotkey` on `netuid`.
        #[pallet::call_index(2)]
        #[pallet::weight(Weight::from_parts(50_000_000, 0))]
        pub fn add_stake(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            netuid: u16,
            amount_staked: u64,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_add_stake(coldkey, hotkey, netuid, amount_staked)
        }

        /// [`Self::add_stake`] that executes only at `limit_price` rao per alpha or better.
        #[pallet::call_index(88)]
        #[pallet::weight(Weight::from_parts(50_000_000, 0))]
        pub fn add_stake_limit(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            netuid: u16,
            amount_staked: u64,
            limit_price: u64,
            allow_partial: bool,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_add_stake_limit(
                coldkey,
                hotkey,
                netuid,
                amount_staked,
                limit_price,
                allow_partial,
            )
        }

        /// Publishes the caller hotkey's endpoint on `netuid`.
        #[pallet::call_index(4)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Normal, Pays::No))]
        pub fn serve_axon(
            origin: OriginFor<T>,
            netuid: u16,
            version: u32,
            ip: u128,
            port: u16,
            ip_type: u8,
            protocol: u8,
            placeholder1: u8,
            placeholder2: u8,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            ensure!(
                Uids::<T>::contains_key(netuid, &hotkey),
                Error::<T>::HotKeyNotRegisteredInSubNet
            );
            ensure!(ip_type == 4 || ip_type == 6, Error::<T>::InvalidIpType);
            let valid_ip = match ip_type {
                4 => ip < u128::from(u32::MAX) && ip != 0x7f00_0001,
                _ => ip != 1 && ip != u128::MAX,
            };
            ensure!(valid_ip, Error::<T>::InvalidIpAddress);
            ensure!(port != 0, Error::<T>::InvalidPort);
            let block: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
            let axon = AxonInfo {
                block,
                version,
                ip,
                port,
                ip_type,
                protocol,
                placeholder1,
                placeholder2,
            };
            Axons::<T>::insert(netuid, &hotkey, axon);
            Self::deposit_event(Event::AxonServed(netuid, hotkey));
            Ok(())
        }

        /// Registers `hotkey` on `netuid`, burning the subnet's registration price from the
        /// caller coldkey, which becomes the hotkey's owner.
        #[pallet::call_index(7)]
        #[pallet::weight(Weight::from_parts(100_000_000, 0))]
        pub fn burned_register(
            origin: OriginFor<T>,
            netuid: u16,
            hotkey: T::AccountId,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
            ensure!(
                NetworkRegistrationAllowed::<T>::get(netuid),
                Error::<T>::SubNetRegistrationDisabled
            );
            ensure!(
                !Uids::<T>::contains_key(netuid, &hotkey),
                Error::<T>::HotKeyAlreadyRegisteredInSubNet
            );
            if Owner::<T>::contains_key(&hotkey) {
                ensure!(
                    Owner::<T>::get(&hotkey) == coldkey,
                    Error::<T>::NonAssociatedColdKey
                );
            }
            ensure!(
                SubnetworkN::<T>::get(netuid) < MaxAllowedUids::<T>::get(netuid),
                Error::<T>::TooManyRegistrationsThisBlock
            );
            T::Currency::burn_from(
                &coldkey,
                Burn::<T>::get(netuid),
                Preservation::Preserve,
                Precision::Exact,
                Fortitude::Polite,
            )
            .map_err(|_| Error::<T>::NotEnoughBalanceToStake)?;
            Self::set_owner(&hotkey, &coldkey);
            let block: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
            let uid = Self::append_neuron(netuid, &hotkey, block);
            Self::deposit_event(Event::NeuronRegistered(netuid, uid, hotkey));
            Ok(())
        }

        /// Creates a subnet owned by the caller coldkey, with `hotkey` as uid 0, locking
        /// `NetworkMinLockCost`.
        #[pallet::call_index(59)]
        #[pallet::weight(Weight::from_parts(200_000_000, 0))]
        pub fn register_network(origin: OriginFor<T>, hotkey: T::AccountId) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_register_network(coldkey, hotkey).map(|_| ())
        }

        /// Lets the caller's subnet emit and run epochs from the next block.
        #[pallet::call_index(92)]
        #[pallet::weight(Weight::from_parts(50_000_000, 0))]
        pub fn start_call(origin: OriginFor<T>, netuid: u16) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_start_call(coldkey, netuid)
        }
    }

    impl<T: Config> Pallet<T> {
        /// Appends `hotkey` as the next uid of `netuid`, growing every per-uid vector.
        pub(crate) fn append_neuron(netuid: u16, hotkey: &T::AccountId, block: u64) -> u16 {
            let uid = SubnetworkN::<T>::get(netuid);
            Uids::<T>::insert(netuid, hotkey, uid);
            Keys::<T>::insert(netuid, uid, hotkey.clone());
            BlockAtRegistration::<T>::insert(netuid, uid, block);
            SubnetworkN::<T>::insert(netuid, uid + 1);
            let n = usize::from(uid) + 1;
            LastUpdate::<T>::mutate(netuid, |v| v.resize(n, 0));
            ValidatorPermit::<T>::mutate(netuid, |v| v.resize(n, false));
            uid
        }
    }
}
