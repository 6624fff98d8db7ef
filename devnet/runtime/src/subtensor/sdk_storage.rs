//! Storage items today's Bittensor clients (SDK 11, btcli) read at connect and for subnet
//! listings, under subtensor's names, hashers and value types. Most hold subtensor's defaults
//! on the devnet; the epoch schedule and token symbols are kept current.

use frame_support::pallet_macros::pallet_section;

/// The section imported into the pallet.
#[pallet_section]
mod sdk_storage {
    /// subtensor's symbol for a subnet without one (𝜏).
    #[pallet::type_value]
    pub fn DefaultTokenSymbol() -> Vec<u8> {
        b"\xF0\x9D\x9C\x8F".to_vec()
    }
    #[pallet::type_value]
    pub fn DefaultMechanismCount() -> u8 {
        1
    }
    #[pallet::type_value]
    pub fn DefaultDifficulty() -> u64 {
        10_000_000
    }
    #[pallet::type_value]
    pub fn DefaultTxRateLimit() -> u64 {
        1000
    }

    #[pallet::extra_constants]
    impl<T: Config> Pallet<T> {
        /// Blocks between a subnet's registration and its `start_call` for new chains (the
        /// devnet's `StartCallDelay` starts at 0).
        #[allow(non_snake_case)]
        pub fn InitialStartCallDelay() -> u64 {
            0
        }
    }

    #[pallet::type_value]
    pub fn DefaultMaxDifficulty() -> u64 {
        u64::MAX / 4
    }
    #[pallet::type_value]
    pub fn DefaultImmuneOwnerUidsLimit() -> u16 {
        1
    }
    #[pallet::type_value]
    pub fn DefaultRho() -> u16 {
        10
    }

    // Hyperparameters of mechanisms the devnet does not run (difficulty adjustment, PoW,
    // Yuma 3, collateral), at subtensor's defaults, for clients that list every one.
    /// Weight of the previous value in the difficulty adjustment.
    #[pallet::storage]
    pub type AdjustmentAlpha<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    /// Highest PoW difficulty.
    #[pallet::storage]
    pub type MaxDifficulty<T> = StorageMap<_, Identity, u16, u64, ValueQuery, DefaultMaxDifficulty>;
    /// Whether PoW registration is open.
    #[pallet::storage]
    pub type NetworkPowRegistrationAllowed<T> = StorageMap<_, Identity, u16, bool, ValueQuery>;
    /// Owner uids immune from pruning.
    #[pallet::storage]
    pub type ImmuneOwnerUidsLimit<T> =
        StorageMap<_, Identity, u16, u16, ValueQuery, DefaultImmuneOwnerUidsLimit>;
    /// Yuma's incentive steepness.
    #[pallet::storage]
    pub type Rho<T> = StorageMap<_, Identity, u16, u16, ValueQuery, DefaultRho>;
    /// Whether the subnet runs Yuma 3.
    #[pallet::storage]
    pub type Yuma3On<T> = StorageMap<_, Blake2_128Concat, u16, bool, ValueQuery>;
    /// Share of locked collateral drained per epoch.
    #[pallet::storage]
    pub type CollateralDrainRatio<T> =
        StorageMap<_, Identity, u16, super::fixed::U64F64, ValueQuery>;

    /// Each subnet's token symbol (UTF-8).
    #[pallet::storage]
    pub type TokenSymbol<T> = StorageMap<_, Identity, u16, Vec<u8>, ValueQuery, DefaultTokenSymbol>;
    /// Mechanisms per subnet (the devnet runs one).
    #[pallet::storage]
    pub type MechanismCountCurrent<T> =
        StorageMap<_, Twox64Concat, u16, u8, ValueQuery, DefaultMechanismCount>;
    /// The subnet's mechanism kind (1: dynamic).
    #[pallet::storage]
    pub type SubnetMechanism<T> = StorageMap<_, Identity, u16, u16, ValueQuery>;
    /// (block, EMA of net TAO flow); never set on the devnet, which has no pools.
    #[pallet::storage]
    pub type SubnetEmaTaoFlow<T> =
        StorageMap<_, Identity, u16, (u64, super::fixed::I64F64), OptionQuery>;
    /// TAO injected into the subnet's pool per block (none: the devnet has no pools).
    #[pallet::storage]
    pub type SubnetTaoInEmission<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    /// Whether the subnet emits.
    #[pallet::storage]
    pub type SubnetEmissionEnabled<T> = StorageMap<_, Identity, u16, bool, ValueQuery, DefaultTrue>;
    /// PoW registration difficulty (the devnet has no PoW registration).
    #[pallet::storage]
    pub type Difficulty<T> = StorageMap<_, Identity, u16, u64, ValueQuery, DefaultDifficulty>;
    /// Blocks between a hotkey's transactions of some kinds.
    #[pallet::storage]
    pub type TxRateLimit<T> = StorageValue<_, u64, ValueQuery, DefaultTxRateLimit>;
    /// How many epochs the subnet has run.
    #[pallet::storage]
    pub type SubnetEpochIndex<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    /// Block of the subnet's last epoch.
    #[pallet::storage]
    pub type LastEpochBlock<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    /// Block of an epoch scheduled out of turn (0: none; never set on the devnet).
    #[pallet::storage]
    pub type PendingEpochAt<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    /// Blocks since the subnet's last epoch.
    #[pallet::storage]
    pub type BlocksSinceLastStep<T> = StorageMap<_, Identity, u16, u64, ValueQuery>;
    /// How the subnet's epoch turns weights into incentive (Yuma on the devnet).
    #[pallet::storage]
    pub type SubnetEpochConsensus<T> =
        StorageMap<_, Identity, u16, super::identity::EpochConsensus, ValueQuery>;
    /// Share of the registration price locked as miner collateral (u16::MAX = 100%; none on
    /// the devnet, which has no collateral).
    #[pallet::storage]
    pub type CollateralLockShare<T> = StorageMap<_, Identity, u16, u16, ValueQuery>;
    /// Each coldkey's hotkeys.
    #[pallet::storage]
    pub type OwnedHotkeys<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, Vec<T::AccountId>, ValueQuery>;
    /// Coldkey identities (never set on the devnet).
    #[pallet::storage]
    pub type IdentitiesV2<T: Config> = StorageMap<
        _,
        Blake2_128Concat,
        T::AccountId,
        super::identity::ChainIdentityV2,
        OptionQuery,
    >;
    /// Subnet identities (never set on the devnet).
    #[pallet::storage]
    pub type SubnetIdentitiesV3<T> =
        StorageMap<_, Blake2_128Concat, u16, super::identity::SubnetIdentityV3, OptionQuery>;
    /// What each coldkey's root dividends become.
    #[pallet::storage]
    pub type RootClaimType<T: Config> = StorageMap<
        _,
        Blake2_128Concat,
        T::AccountId,
        super::identity::RootClaimTypeEnum,
        ValueQuery,
    >;
}
