//! Staking: alpha bought 1:1 with TAO (the devnet has no pool), credited to the hotkey.

use super::dynamic::ALPHA_PRICE_RAO;
use super::pallet::*;
use frame_support::pallet_prelude::*;
use frame_support::traits::fungible::Mutate;
use frame_support::traits::tokens::{Fortitude, Precision, Preservation};

impl<T: Config> Pallet<T> {
    /// Burns `amount` rao of `coldkey`'s TAO and credits as much alpha to `hotkey` on `netuid`.
    pub(crate) fn do_add_stake(
        coldkey: T::AccountId,
        hotkey: T::AccountId,
        netuid: u16,
        amount: u64,
    ) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(
            Owner::<T>::get(&hotkey) == coldkey,
            Error::<T>::NonAssociatedColdKey
        );
        T::Currency::burn_from(
            &coldkey,
            amount,
            Preservation::Preserve,
            Precision::Exact,
            Fortitude::Polite,
        )
        .map_err(|_| Error::<T>::NotEnoughBalanceToStake)?;
        TotalHotkeyAlpha::<T>::mutate(&hotkey, netuid, |s| *s = s.saturating_add(amount));
        Self::deposit_event(Event::StakeAdded(
            coldkey, hotkey, amount, amount, netuid, 0,
        ));
        Ok(())
    }

    /// [`Self::do_add_stake`] if the price (always [`ALPHA_PRICE_RAO`]) is at most
    /// `limit_price`; otherwise nothing executes, as on subtensor when no part of the order
    /// fits the limit.
    pub(crate) fn do_add_stake_limit(
        coldkey: T::AccountId,
        hotkey: T::AccountId,
        netuid: u16,
        amount: u64,
        limit_price: u64,
        allow_partial: bool,
    ) -> DispatchResult {
        if limit_price < ALPHA_PRICE_RAO {
            return Err(if allow_partial {
                Error::<T>::ZeroMaxStakeAmount
            } else {
                Error::<T>::SlippageTooHigh
            }
            .into());
        }
        Self::do_add_stake(coldkey, hotkey, netuid, amount)
    }
}
