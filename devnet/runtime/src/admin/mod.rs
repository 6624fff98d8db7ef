//! `AdminUtils` (index 19): the hyperparameter setters a subnet owner uses on a local chain, with
//! subtensor's call indices and argument names. Per-subnet setters accept root (through `Sudo`)
//! or the subnet's owner coldkey; the global ones (stake threshold, network lock cost, subnet
//! limit, start-call delay) are root only.

pub use pallet::*;

#[frame_support::pallet]
pub mod pallet {
    use crate::subtensor;
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;

    #[pallet::pallet]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config: frame_system::Config + subtensor::Config {}

    #[pallet::error]
    pub enum Error<T> {
        SubnetDoesNotExist,
        MaxValidatorsLargerThanMaxUIds,
        MaxAllowedUIdsLessThanCurrentUIds,
        InvalidValue,
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Minimum version key of weights.
        #[pallet::call_index(6)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_weights_version_key(
            origin: OriginFor<T>,
            netuid: u16,
            weights_version_key: u64,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::WeightsVersionKey::<T>::insert(netuid, weights_version_key);
            Ok(())
        }

        /// Blocks between weight updates of one hotkey.
        #[pallet::call_index(7)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_weights_set_rate_limit(
            origin: OriginFor<T>,
            netuid: u16,
            weights_set_rate_limit: u64,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::WeightsSetRateLimit::<T>::insert(netuid, weights_set_rate_limit);
            Ok(())
        }

        /// Blocks a new registration is protected from pruning.
        #[pallet::call_index(13)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_immunity_period(
            origin: OriginFor<T>,
            netuid: u16,
            immunity_period: u16,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::ImmunityPeriod::<T>::insert(netuid, immunity_period);
            Ok(())
        }

        /// Minimum entries in a weight vector.
        #[pallet::call_index(14)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_min_allowed_weights(
            origin: OriginFor<T>,
            netuid: u16,
            min_allowed_weights: u16,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::MinAllowedWeights::<T>::insert(netuid, min_allowed_weights);
            Ok(())
        }

        /// Consensus majority (u16 proportion).
        #[pallet::call_index(16)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_kappa(origin: OriginFor<T>, netuid: u16, kappa: u16) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::Kappa::<T>::insert(netuid, kappa);
            Ok(())
        }

        /// Blocks after which a silent uid is inactive.
        #[pallet::call_index(18)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_activity_cutoff(
            origin: OriginFor<T>,
            netuid: u16,
            activity_cutoff: u16,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::ActivityCutoff::<T>::insert(netuid, activity_cutoff);
            Ok(())
        }

        /// Whether `burned_register` is open.
        #[pallet::call_index(19)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_network_registration_allowed(
            origin: OriginFor<T>,
            netuid: u16,
            registration_allowed: bool,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::NetworkRegistrationAllowed::<T>::insert(netuid, registration_allowed);
            Ok(())
        }

        /// Bonds EMA retention in millionths.
        #[pallet::call_index(26)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_bonds_moving_average(
            origin: OriginFor<T>,
            netuid: u16,
            bonds_moving_average: u64,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::BondsMovingAverage::<T>::insert(netuid, bonds_moving_average);
            Ok(())
        }

        /// Blocks per epoch.
        #[pallet::call_index(30)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_tempo(origin: OriginFor<T>, netuid: u16, tempo: u16) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::Tempo::<T>::insert(netuid, tempo);
            Ok(())
        }

        /// Whether weights go through commit-reveal.
        #[pallet::call_index(49)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_commit_reveal_weights_enabled(
            origin: OriginFor<T>,
            netuid: u16,
            enabled: bool,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::CommitRevealWeightsEnabled::<T>::insert(netuid, enabled);
            Ok(())
        }

        /// Epochs between a commit and its reveal, 1 to 100 (subtensor's bounds).
        #[pallet::call_index(57)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_commit_reveal_weights_interval(
            origin: OriginFor<T>,
            netuid: u16,
            interval: u64,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            ensure!((1..=100).contains(&interval), Error::<T>::InvalidValue);
            subtensor::RevealPeriodEpochs::<T>::insert(netuid, interval);
            Ok(())
        }

        /// The commit-reveal version timelocked commits must name (root only).
        #[pallet::call_index(71)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_commit_reveal_version(
            origin: OriginFor<T>,
            version: u16,
        ) -> DispatchResult {
            ensure_root(origin)?;
            subtensor::Pallet::<T>::set_commit_reveal_version(version);
            Ok(())
        }

        /// Bonds penalty (u16 proportion).
        #[pallet::call_index(60)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_bonds_penalty(
            origin: OriginFor<T>,
            netuid: u16,
            bonds_penalty: u16,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::BondsPenalty::<T>::insert(netuid, bonds_penalty);
            Ok(())
        }

        /// Uid capacity; not below the current number of uids nor the validator count.
        #[pallet::call_index(15)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_max_allowed_uids(
            origin: OriginFor<T>,
            netuid: u16,
            max_allowed_uids: u16,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            ensure!(
                max_allowed_uids >= subtensor::SubnetworkN::<T>::get(netuid),
                Error::<T>::MaxAllowedUIdsLessThanCurrentUIds
            );
            ensure!(
                max_allowed_uids >= subtensor::MaxAllowedValidators::<T>::get(netuid),
                Error::<T>::MaxValidatorsLargerThanMaxUIds
            );
            subtensor::MaxAllowedUids::<T>::insert(netuid, max_allowed_uids);
            Ok(())
        }

        /// Validator permits per epoch; not above the uid capacity.
        #[pallet::call_index(25)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_max_allowed_validators(
            origin: OriginFor<T>,
            netuid: u16,
            max_allowed_validators: u16,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            ensure!(
                max_allowed_validators <= subtensor::MaxAllowedUids::<T>::get(netuid),
                Error::<T>::MaxValidatorsLargerThanMaxUIds
            );
            subtensor::MaxAllowedValidators::<T>::insert(netuid, max_allowed_validators);
            Ok(())
        }

        /// Global minimum stake to set weights (root only).
        #[pallet::call_index(42)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_stake_threshold(origin: OriginFor<T>, min_stake: u64) -> DispatchResult {
            ensure_root(origin)?;
            subtensor::StakeThreshold::<T>::put(min_stake);
            Ok(())
        }

        /// Rao `register_network` locks (root only).
        #[pallet::call_index(36)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_network_min_lock_cost(
            origin: OriginFor<T>,
            lock_cost: u64,
        ) -> DispatchResult {
            ensure_root(origin)?;
            subtensor::NetworkMinLockCost::<T>::put(lock_cost);
            Ok(())
        }

        /// Most subnets at once (root only).
        #[pallet::call_index(37)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_subnet_limit(origin: OriginFor<T>, max_subnets: u16) -> DispatchResult {
            ensure_root(origin)?;
            subtensor::SubnetLimit::<T>::put(max_subnets);
            Ok(())
        }

        /// Blocks after registration before `start_call` (root only).
        #[pallet::call_index(85)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0))]
        pub fn sudo_set_start_call_delay(origin: OriginFor<T>, delay: u64) -> DispatchResult {
            ensure_root(origin)?;
            subtensor::StartCallDelay::<T>::put(delay);
            Ok(())
        }
    }

    impl<T: Config> Pallet<T> {
        fn ensure_owner_or_root(origin: OriginFor<T>, netuid: u16) -> DispatchResult {
            ensure!(
                subtensor::NetworksAdded::<T>::get(netuid),
                Error::<T>::SubnetDoesNotExist
            );
            match ensure_signed_or_root(origin)? {
                None => Ok(()),
                Some(who) if who == subtensor::SubnetOwner::<T>::get(netuid) => Ok(()),
                Some(_) => Err(DispatchError::BadOrigin),
            }
        }
    }
}
