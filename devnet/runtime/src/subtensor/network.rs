//! Creating subnets by extrinsic, as subtensor does: `register_network` locks the lock cost
//! from the caller coldkey and creates the lowest free netuid with subtensor's default
//! hyperparameters, owned by the caller, with `hotkey` as uid 0; `start_call` lets it emit.
//! A subnet runs no epoch before its first emission block.
//!
//! Departures from subtensor: the lock cost is the fixed `NetworkMinLockCost` (no doubling or
//! decay) and is burned rather than moved into a subnet pool; there is no network rate limit;
//! at `SubnetLimit` registration fails with `SubnetLimitReached` instead of pruning a subnet.

use super::pallet::*;
use frame_support::pallet_prelude::*;
use frame_support::traits::fungible::Mutate;
use frame_support::traits::tokens::{Fortitude, Precision, Preservation};
use sp_runtime::SaturatedConversion;

/// subtensor's mechanism id of dynamic (alpha) subnets, in `NetworkAdded`.
const DYNAMIC_MECHANISM: u16 = 1;

impl<T: Config> Pallet<T> {
    /// `register_network` signed by `coldkey`; returns the new netuid.
    pub(crate) fn do_register_network(
        coldkey: T::AccountId,
        hotkey: T::AccountId,
    ) -> Result<u16, DispatchError> {
        if Owner::<T>::contains_key(&hotkey) {
            ensure!(
                Owner::<T>::get(&hotkey) == coldkey,
                Error::<T>::NonAssociatedColdKey
            );
        }
        let added = NetworksAdded::<T>::iter().filter(|(_, a)| *a).count();
        ensure!(
            added < usize::from(SubnetLimit::<T>::get()),
            Error::<T>::SubnetLimitReached
        );
        let netuid = (1..=u16::MAX)
            .find(|n| !NetworksAdded::<T>::get(n))
            .ok_or(Error::<T>::SubnetLimitReached)?;
        let lock = NetworkMinLockCost::<T>::get();
        T::Currency::burn_from(
            &coldkey,
            lock,
            Preservation::Preserve,
            Precision::Exact,
            Fortitude::Polite,
        )
        .map_err(|_| Error::<T>::CannotAffordLockCost)?;

        let block: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
        NetworksAdded::<T>::insert(netuid, true);
        Self::init_subnet_metadata(netuid);
        TotalNetworks::<T>::mutate(|n| *n = n.saturating_add(1));
        NetworkRegisteredAt::<T>::insert(netuid, block);
        SubnetLocked::<T>::insert(netuid, lock);
        LastMechansimStepBlock::<T>::insert(netuid, block);
        SubnetOwner::<T>::insert(netuid, coldkey.clone());
        SubnetOwnerHotkey::<T>::insert(netuid, hotkey.clone());
        Self::set_owner(&hotkey, &coldkey);
        Self::append_neuron(netuid, &hotkey, block);
        Self::deposit_event(Event::NetworkAdded(netuid, DYNAMIC_MECHANISM));
        Ok(netuid)
    }

    /// `start_call` signed by `coldkey`: emission (and epochs) from the next block on, once
    /// `StartCallDelay` blocks have passed since the subnet was registered.
    pub(crate) fn do_start_call(coldkey: T::AccountId, netuid: u16) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(
            SubnetOwner::<T>::get(netuid) == coldkey,
            DispatchError::BadOrigin
        );
        ensure!(
            FirstEmissionBlockNumber::<T>::get(netuid).is_none(),
            Error::<T>::FirstEmissionBlockNumberAlreadySet
        );
        let block: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
        let ready =
            NetworkRegisteredAt::<T>::get(netuid).saturating_add(StartCallDelay::<T>::get());
        ensure!(block >= ready, Error::<T>::NeedWaitingMoreBlocksToStarCall);
        let first = block.saturating_add(1);
        FirstEmissionBlockNumber::<T>::insert(netuid, first);
        Self::deposit_event(Event::FirstEmissionBlockNumberSet(netuid, first));
        Ok(())
    }

    /// Whether `netuid` emits (and so runs epochs) at `block`.
    pub(crate) fn emits(netuid: u16, block: u64) -> bool {
        FirstEmissionBlockNumber::<T>::get(netuid).is_some_and(|first| block >= first)
    }
}
