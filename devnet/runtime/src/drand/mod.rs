//! `Drand` (index 26): the drand beacon's pulses on chain, with subtensor's call, storage,
//! event and error names and shapes. On finney an offchain worker fetches drand quicknet's
//! pulses; here the block author signs its own beacon's rounds ([`pulses_due`]) and puts them
//! in each block as the `write_pulse` inherent. Every pulse is checked against
//! `BeaconConfig`'s public key before it is stored, so a pulse is only ever the beacon's.

mod types;

pub use pallet::*;
pub use types::*;

use alloc::vec::Vec;

/// Pulses kept on chain (older rounds are pruned, at most [`MAX_REMOVED_PULSES`] per block):
/// an hour of one-second rounds. subtensor keeps a week of quicknet's three-second rounds.
pub const MAX_KEPT_PULSES: u64 = 3_600;
/// Most rounds pruned in one block.
pub const MAX_REMOVED_PULSES: u64 = 100;
/// Most pulses the author writes in one block (subtensor's `MAX_PULSES_TO_FETCH`); after a
/// longer pause the rounds in between are skipped.
pub const MAX_PULSES_PER_BLOCK: u64 = 50;
/// The inherent data key of the author's pulses.
pub const INHERENT_IDENTIFIER: sp_inherents::InherentIdentifier = *b"kilndrnd";

/// The pulses the author of a block at unix time `now_ms` adds for `beacon`: the rounds after
/// `LastStoredRound` that are due by then (the last [`MAX_PULSES_PER_BLOCK`] of them; on a chain
/// with none yet, the current round only). Empty when `beacon` is not the chain's configured
/// beacon. Reads the chain state it runs in.
pub fn pulses_due<T: Config>(beacon: &kiln_drand::Beacon, now_ms: u64) -> Vec<Pulse> {
    let config = BeaconConfig::<T>::get();
    if config.public_key.as_slice() != beacon.public_key().as_slice() {
        log::warn!(target: "kiln::drand", "the node's beacon is not the chain's BeaconConfig; no pulses");
        return Vec::new();
    }
    let due = config.clock().round_at(now_ms / 1000);
    let last = LastStoredRound::<T>::get();
    // A new chain starts at the current round; a resumed one catches up.
    let first = if last == 0 {
        due.max(1)
    } else {
        (last + 1).max(due.saturating_sub(MAX_PULSES_PER_BLOCK - 1))
    };
    (first..=due)
        .map(|round| Pulse::new(round, &beacon.sign(round)))
        .collect()
}

#[frame_support::pallet]
pub mod pallet {
    use super::{
        BeaconConfiguration, BeaconConfigurationPayload, INHERENT_IDENTIFIER, MAX_KEPT_PULSES,
        MAX_REMOVED_PULSES, Pulse, PulsesPayload, Relayer, RelayerSignature, RoundNumber, Vec,
    };
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;

    #[pallet::pallet]
    #[pallet::without_storage_info]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {}

    #[pallet::storage]
    pub type BeaconConfig<T> = StorageValue<_, BeaconConfiguration, ValueQuery>;
    #[pallet::storage]
    pub type Pulses<T> = StorageMap<_, Blake2_128Concat, RoundNumber, Pulse, OptionQuery>;
    #[pallet::storage]
    pub type LastStoredRound<T> = StorageValue<_, RoundNumber, ValueQuery>;
    #[pallet::storage]
    pub type OldestStoredRound<T> = StorageValue<_, RoundNumber, ValueQuery>;
    #[pallet::storage]
    pub type NextUnsignedAt<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// The beacon configuration changed.
        BeaconConfigChanged,
        /// Pulses were stored.
        NewPulse { rounds: Vec<RoundNumber> },
        /// The oldest stored round was set.
        SetOldestStoredRound(u64),
    }

    #[pallet::error]
    pub enum Error<T> {
        NoneValue,
        StorageOverflow,
        DrandConnectionFailure,
        UnverifiedPulse,
        InvalidRoundNumber,
        PulseVerificationError,
    }

    #[pallet::genesis_config]
    #[derive(frame_support::DefaultNoBound)]
    pub struct GenesisConfig<T: Config> {
        /// The beacon whose pulses the chain accepts.
        pub beacon: BeaconConfiguration,
        #[serde(skip)]
        pub _marker: PhantomData<T>,
    }

    #[pallet::genesis_build]
    impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
        fn build(&self) {
            BeaconConfig::<T>::put(self.beacon.clone());
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Stores the pulses that verify against `BeaconConfig` (rounds must increase); a
        /// pulse that is not the beacon's is skipped. Only as the block author's inherent.
        #[pallet::call_index(0)]
        #[pallet::weight((Weight::from_parts(5_000_000, 0), DispatchClass::Mandatory))]
        pub fn write_pulse(
            origin: OriginFor<T>,
            pulses_payload: PulsesPayload<Relayer, BlockNumberFor<T>>,
            _signature: Option<RelayerSignature>,
        ) -> DispatchResult {
            ensure_none(origin)?;
            let config = BeaconConfig::<T>::get();
            let mut last = LastStoredRound::<T>::get();
            let first_storage = last == 0 && OldestStoredRound::<T>::get() == 0;
            let mut rounds = Vec::new();
            for pulse in pulses_payload.pulses {
                match kiln_drand::verify_pulse(&config.public_key, pulse.round, &pulse.signature) {
                    Ok(()) => {}
                    Err(kiln_drand::PulseError::Forged { round }) => {
                        log::warn!(target: "kiln::drand", "round {round}: not the beacon's signature");
                        continue;
                    }
                    Err(_) => return Err(Error::<T>::PulseVerificationError.into()),
                }
                ensure!(pulse.round > last, Error::<T>::InvalidRoundNumber);
                last = pulse.round;
                rounds.push(pulse.round);
                Pulses::<T>::insert(pulse.round, pulse);
            }
            LastStoredRound::<T>::put(last);
            if first_storage && let Some(first) = rounds.first() {
                OldestStoredRound::<T>::put(first);
            }
            Self::prune(last);
            NextUnsignedAt::<T>::put(frame_system::Pallet::<T>::block_number());
            if !rounds.is_empty() {
                Self::deposit_event(Event::NewPulse { rounds });
            }
            Ok(())
        }

        /// Root replaces the beacon configuration.
        #[pallet::call_index(1)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0))]
        pub fn set_beacon_config(
            origin: OriginFor<T>,
            config_payload: BeaconConfigurationPayload<Relayer, BlockNumberFor<T>>,
            _signature: Option<RelayerSignature>,
        ) -> DispatchResult {
            ensure_root(origin)?;
            BeaconConfig::<T>::put(config_payload.config);
            Self::deposit_event(Event::BeaconConfigChanged);
            Ok(())
        }

        /// Root sets the oldest stored round.
        #[pallet::call_index(2)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0))]
        pub fn set_oldest_stored_round(origin: OriginFor<T>, oldest_round: u64) -> DispatchResult {
            ensure_root(origin)?;
            OldestStoredRound::<T>::put(oldest_round);
            Self::deposit_event(Event::SetOldestStoredRound(oldest_round));
            Ok(())
        }
    }

    #[pallet::inherent]
    impl<T: Config> ProvideInherent for Pallet<T> {
        type Call = Call<T>;
        type Error = sp_inherents::MakeFatalError<()>;
        const INHERENT_IDENTIFIER: InherentIdentifier = INHERENT_IDENTIFIER;

        fn create_inherent(data: &InherentData) -> Option<Self::Call> {
            let pulses: Vec<Pulse> = data.get_data(&INHERENT_IDENTIFIER).ok().flatten()?;
            (!pulses.is_empty()).then(|| Call::write_pulse {
                pulses_payload: PulsesPayload {
                    block_number: frame_system::Pallet::<T>::block_number(),
                    pulses,
                    public: Relayer::Sr25519([0; 32]),
                },
                signature: None,
            })
        }

        fn is_inherent(call: &Self::Call) -> bool {
            matches!(call, Call::write_pulse { .. })
        }
    }

    impl<T: Config> Pallet<T> {
        /// The pulse of `round`, if stored.
        pub fn pulse(round: RoundNumber) -> Option<Pulse> {
            Pulses::<T>::get(round)
        }

        fn prune(last: RoundNumber) {
            let oldest = OldestStoredRound::<T>::get();
            let keep_from = last.saturating_sub(MAX_KEPT_PULSES);
            if oldest >= keep_from {
                return;
            }
            let until = keep_from.min(oldest.saturating_add(MAX_REMOVED_PULSES));
            for round in oldest..until {
                Pulses::<T>::remove(round);
            }
            OldestStoredRound::<T>::put(until);
        }
    }
}
