//! `Commitments` (index 18): per-subnet commitments of registered hotkeys, with subtensor's call,
//! storage, event and error names and its space quota (`MaxSpace` bytes per hotkey per epoch,
//! at least 100 bytes charged per call). Miners commit artifact hashes here.

mod data;

pub use data::Data;
pub use pallet::*;

use alloc::boxed::Box;
use frame_support::BoundedVec;
use frame_support::traits::ConstU32;

/// Up to three fields.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    scale_info::TypeInfo,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
)]
pub struct CommitmentInfo {
    /// The fields.
    pub fields: BoundedVec<Data, ConstU32<3>>,
}

/// A stored commitment.
#[derive(codec::Encode, codec::Decode, scale_info::TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// Deposit held (always 0 here, as on subtensor).
    pub deposit: u64,
    /// Block it was set at.
    pub block: u32,
    /// The commitment.
    pub info: CommitmentInfo,
}

/// Quota bookkeeping per (netuid, hotkey).
#[derive(
    codec::Encode, codec::Decode, scale_info::TypeInfo, Clone, Debug, Default, PartialEq, Eq,
)]
pub struct UsageTracker {
    /// The epoch the usage belongs to.
    pub last_epoch: u64,
    /// Bytes used in it.
    pub used_space: u64,
}

/// Who may commit, and which epoch a block belongs to, from the subnet pallet.
pub trait SubnetRules<AccountId> {
    /// Whether `who` is registered on `netuid`.
    fn can_commit(netuid: u16, who: &AccountId) -> bool;
    /// An identifier of `netuid`'s current epoch (changes whenever an epoch runs).
    fn current_epoch(netuid: u16) -> u64;
}

/// Minimum bytes charged per `set_commitment`.
pub const MIN_CHARGE: u64 = 100;

#[frame_support::pallet]
pub mod pallet {
    use super::{Box, CommitmentInfo, MIN_CHARGE, Registration, SubnetRules, UsageTracker};
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;
    use sp_runtime::SaturatedConversion;

    #[pallet::pallet]
    #[pallet::without_storage_info]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// Registration and epochs.
        type Rules: SubnetRules<Self::AccountId>;
    }

    #[pallet::type_value]
    pub fn DefaultMaxSpace() -> u32 {
        3100
    }

    /// The latest commitment of each hotkey on each subnet.
    #[pallet::storage]
    pub type CommitmentOf<T: Config> =
        StorageDoubleMap<_, Identity, u16, Twox64Concat, T::AccountId, Registration, OptionQuery>;
    /// Block of each hotkey's latest commitment.
    #[pallet::storage]
    pub type LastCommitment<T: Config> =
        StorageDoubleMap<_, Identity, u16, Twox64Concat, T::AccountId, u32, OptionQuery>;
    /// Timelocked commitments once revealed: (data, reveal block). The devnet does not reveal
    /// timelocked commitments, so this stays empty; clients read it with every metagraph.
    #[pallet::storage]
    pub type RevealedCommitments<T: Config> = StorageDoubleMap<
        _,
        Identity,
        u16,
        Twox64Concat,
        T::AccountId,
        Vec<(Vec<u8>, u64)>,
        OptionQuery,
    >;
    /// Space used this epoch.
    #[pallet::storage]
    pub type UsedSpaceOf<T: Config> =
        StorageDoubleMap<_, Identity, u16, Twox64Concat, T::AccountId, UsageTracker, OptionQuery>;
    /// Bytes a hotkey may commit per epoch.
    #[pallet::storage]
    pub type MaxSpace<T> = StorageValue<_, u32, ValueQuery, DefaultMaxSpace>;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// A commitment was set.
        #[codec(index = 0)]
        Commitment { netuid: u16, who: T::AccountId },
    }

    #[pallet::error]
    pub enum Error<T> {
        TooManyFieldsInCommitmentInfo,
        AccountNotAllowedCommit,
        SpaceLimitExceeded,
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Sets the caller hotkey's commitment on `netuid`, replacing the previous one.
        #[pallet::call_index(0)]
        #[pallet::weight((Weight::from_parts(20_000_000, 0), DispatchClass::Operational, Pays::No))]
        pub fn set_commitment(
            origin: OriginFor<T>,
            netuid: u16,
            info: Box<CommitmentInfo>,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            ensure!(
                T::Rules::can_commit(netuid, &who),
                Error::<T>::AccountNotAllowedCommit
            );
            let size: u64 = info.fields.iter().map(|f| f.len_for_rate_limit()).sum();
            let charge = size.max(MIN_CHARGE);
            let epoch = T::Rules::current_epoch(netuid);
            let mut usage = UsedSpaceOf::<T>::get(netuid, &who).unwrap_or_default();
            if usage.last_epoch != epoch {
                usage = UsageTracker {
                    last_epoch: epoch,
                    used_space: 0,
                };
            }
            let used = usage.used_space.saturating_add(charge);
            ensure!(
                used <= u64::from(MaxSpace::<T>::get()),
                Error::<T>::SpaceLimitExceeded
            );
            usage.used_space = used;
            UsedSpaceOf::<T>::insert(netuid, &who, usage);
            let block: u32 = frame_system::Pallet::<T>::block_number().saturated_into();
            CommitmentOf::<T>::insert(
                netuid,
                &who,
                Registration {
                    deposit: 0,
                    block,
                    info: *info,
                },
            );
            LastCommitment::<T>::insert(netuid, &who, block);
            Self::deposit_event(Event::Commitment { netuid, who });
            Ok(())
        }

        /// Sets the per-epoch space quota (root only).
        #[pallet::call_index(2)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0))]
        pub fn set_max_space(origin: OriginFor<T>, new_limit: u32) -> DispatchResult {
            ensure_root(origin)?;
            MaxSpace::<T>::put(new_limit);
            Ok(())
        }
    }
}
