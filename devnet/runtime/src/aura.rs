//! `Aura` (index 3): only the `SlotDuration` constant, which clients read as the chain's block
//! time (Bittensor's SDK times its waits and commit-reveal rounds by it). The devnet's block
//! time is the node's setting, so the genesis records it and the constant reads it back.

pub use pallet::*;

/// Where the genesis records the block time (an unhashed key, outside any pallet's storage).
const SLOT_DURATION_KEY: &[u8] = b":kiln:slot_duration_ms";
/// The devnet's default block time.
pub const DEFAULT_SLOT_DURATION_MS: u64 = 250;

#[frame_support::pallet]
pub mod pallet {
    use super::{DEFAULT_SLOT_DURATION_MS, SLOT_DURATION_KEY};
    use frame_support::pallet_prelude::*;
    use frame_support::storage::unhashed;

    #[pallet::pallet]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config: frame_system::Config {}

    #[pallet::extra_constants]
    impl<T: Config> Pallet<T> {
        /// Milliseconds between blocks (the default when metadata is built without a state).
        #[allow(non_snake_case)]
        pub fn SlotDuration() -> u64 {
            sp_externalities::with_externalities(|ext| ext.storage(SLOT_DURATION_KEY))
                .flatten()
                .and_then(|v| u64::decode(&mut &v[..]).ok())
                .unwrap_or(DEFAULT_SLOT_DURATION_MS)
        }
    }

    /// The block time the node authors at.
    #[pallet::genesis_config]
    #[derive(frame_support::DefaultNoBound)]
    pub struct GenesisConfig<T: Config> {
        /// Milliseconds between blocks (0: the default).
        pub slot_duration_ms: u64,
        #[serde(skip)]
        pub _config: core::marker::PhantomData<T>,
    }

    #[pallet::genesis_build]
    impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
        fn build(&self) {
            if self.slot_duration_ms > 0 {
                unhashed::put(SLOT_DURATION_KEY, &self.slot_duration_ms);
            }
        }
    }
}
