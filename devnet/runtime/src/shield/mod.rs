//! `MevShield` (index 30): subtensor's MEV shield as clients see it. Users read `NextKey` (an
//! ML-KEM-768 encapsulation key), encrypt a signed extrinsic to it and submit the ciphertext
//! with `submit_encrypted`; the block author decrypts it and applies the inner extrinsic right
//! after the carrier, in the same block (the node does that: `kiln-devnet`'s `shield` module,
//! with the cryptography of `kiln-shield`).
//!
//! On finney each author announces a fresh key every block and the keys move through the
//! `NextKey` → `PendingKey` → `CurrentKey` pipeline. The devnet has one author with one fixed
//! key pair ([`ShieldKeyPair`]): the genesis puts its encapsulation key in all three items, and
//! only the expiry blocks advance, as finney's rotation sets them.

pub use kiln_shield::{MLKEM768_ENC_KEY_LEN, ShieldKeyPair};
pub use pallet::*;

use frame_support::BoundedVec;
use frame_support::traits::ConstU32;

/// An ML-KEM-768 encapsulation key as stored (subtensor's `stp_shield::ShieldEncKey`).
pub type ShieldEncKey = BoundedVec<u8, ConstU32<2048>>;
/// The most bytes `submit_encrypted` carries.
pub const MAX_CIPHERTEXT_LEN: u32 = 8192;

#[frame_support::pallet]
pub mod pallet {
    use super::{MAX_CIPHERTEXT_LEN, MLKEM768_ENC_KEY_LEN, ShieldEncKey};
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;
    use sp_runtime::traits::Hash;

    #[pallet::pallet]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {}

    /// The current block author's encapsulation key (internal, not for encryption).
    #[pallet::storage]
    pub type CurrentKey<T> = StorageValue<_, ShieldEncKey, OptionQuery>;

    /// The next block author's key, staged before it becomes `CurrentKey`.
    #[pallet::storage]
    pub type PendingKey<T> = StorageValue<_, ShieldEncKey, OptionQuery>;

    /// The key users encrypt to.
    #[pallet::storage]
    pub type NextKey<T> = StorageValue<_, ShieldEncKey, OptionQuery>;

    /// The block at which `PendingKey` stops being valid (exclusive).
    #[pallet::storage]
    pub type PendingKeyExpiresAt<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

    /// The block at which `NextKey` stops being valid (exclusive).
    #[pallet::storage]
    pub type NextKeyExpiresAt<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// Encrypted wrapper accepted.
        EncryptedSubmitted { id: T::Hash, who: T::AccountId },
    }

    #[pallet::error]
    pub enum Error<T> {
        /// The announced ML-KEM encapsulation key length is invalid.
        BadEncKeyLen,
        /// Unreachable.
        Unreachable,
    }

    #[pallet::genesis_config]
    #[derive(frame_support::DefaultNoBound)]
    pub struct GenesisConfig<T: Config> {
        /// The author's ML-KEM-768 encapsulation key (1184 bytes); empty leaves the shield off
        /// (no `NextKey`, as on a chain without shield keys).
        pub key: ShieldEncKey,
        #[serde(skip)]
        pub _marker: PhantomData<T>,
    }

    #[pallet::genesis_build]
    impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
        fn build(&self) {
            if self.key.is_empty() {
                return;
            }
            assert_eq!(
                self.key.len(),
                MLKEM768_ENC_KEY_LEN,
                "MevShield genesis key: BadEncKeyLen"
            );
            CurrentKey::<T>::put(self.key.clone());
            PendingKey::<T>::put(self.key.clone());
            NextKey::<T>::put(self.key.clone());
            Pallet::<T>::set_expiries(Zero::zero());
        }
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        /// The expiries finney's per-block rotation sets; the keys themselves stay.
        fn on_initialize(now: BlockNumberFor<T>) -> Weight {
            Self::set_expiries(now);
            T::DbWeight::get().reads_writes(2, 2)
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Users submit an encrypted wrapper: `ciphertext = twox_128(NextKey) || kem_len (u16
        /// LE) || kem_ct || nonce (24) || aead_ct`, ML-KEM-768 + XChaCha20-Poly1305 around a
        /// signed extrinsic (at the carrier's nonce + 1 when the same account signs both).
        #[pallet::call_index(1)]
        #[pallet::weight(Weight::from_parts(207_223_000, 0))]
        pub fn submit_encrypted(
            origin: OriginFor<T>,
            ciphertext: BoundedVec<u8, ConstU32<MAX_CIPHERTEXT_LEN>>,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let id: T::Hash = T::Hashing::hash_of(&(who.clone(), &ciphertext));
            Self::deposit_event(Event::EncryptedSubmitted { id, who });
            Ok(())
        }
    }

    impl<T: Config> Pallet<T> {
        /// `PendingKey` expires two blocks after `now`, `NextKey` three (while they are set).
        fn set_expiries(now: BlockNumberFor<T>) {
            if PendingKey::<T>::exists() {
                PendingKeyExpiresAt::<T>::put(now + 2u32.into());
            }
            if NextKey::<T>::exists() {
                NextKeyExpiresAt::<T>::put(now + 3u32.into());
            }
        }
    }
}
