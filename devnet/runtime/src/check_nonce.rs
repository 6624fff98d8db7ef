//! subtensor's `CheckNonce`: the standard nonce rules (same identifier and encoding, a compact
//! nonce), except that a fee-less call (`Pays::No`: weights, axons, commitments) may come from
//! an account that does not exist, so a hotkey with no balance can sign it. Calls that pay a fee
//! still need an existing account, as with FRAME's extension.

use alloc::vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::dispatch::{DispatchInfo, Pays};
use frame_support::pallet_prelude::TransactionSource;
use frame_system::ExtensionsWeightInfo;
use scale_info::TypeInfo;
use sp_runtime::traits::{
    AsSystemOriginSigner, DispatchInfoOf, Dispatchable, One, PostDispatchInfoOf,
    TransactionExtension, ValidateResult, Zero,
};
use sp_runtime::transaction_validity::{
    InvalidTransaction, TransactionLongevity, TransactionValidityError, ValidTransaction,
};
use sp_runtime::{DispatchResult, Saturating, Weight};

/// The sender's nonce for this transaction.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct CheckNonce<T: frame_system::Config>(#[codec(compact)] pub T::Nonce);

impl<T: frame_system::Config> core::fmt::Debug for CheckNonce<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CheckNonce({:?})", self.0)
    }
}

impl<T: frame_system::Config> CheckNonce<T> {
    /// The nonce checks of `validate`: `Payment` for a fee-paying call from an account that
    /// does not exist, `Stale` for a used nonce; a future nonce requires its predecessor.
    fn check(
        who: &T::AccountId,
        nonce: T::Nonce,
        pays: Pays,
    ) -> Result<ValidTransaction, TransactionValidityError> {
        let account = frame_system::Account::<T>::get(who);
        let exists = !(account.providers.is_zero() && account.sufficients.is_zero());
        if pays == Pays::Yes && !exists {
            return Err(InvalidTransaction::Payment.into());
        }
        if nonce < account.nonce {
            return Err(InvalidTransaction::Stale.into());
        }
        let requires = if account.nonce < nonce {
            vec![(who.clone(), nonce.saturating_sub(One::one())).encode()]
        } else {
            vec![]
        };
        Ok(ValidTransaction {
            priority: 0,
            requires,
            provides: vec![(who.clone(), nonce).encode()],
            longevity: TransactionLongevity::MAX,
            propagate: true,
        })
    }
}

impl<T: frame_system::Config> TransactionExtension<T::RuntimeCall> for CheckNonce<T>
where
    T::RuntimeCall: Dispatchable<Info = DispatchInfo>,
    <T::RuntimeCall as Dispatchable>::RuntimeOrigin: AsSystemOriginSigner<T::AccountId> + Clone,
{
    const IDENTIFIER: &'static str = "CheckNonce";
    type Implicit = ();
    /// The signer, when there is one.
    type Val = Option<T::AccountId>;
    type Pre = ();

    fn weight(&self, _: &T::RuntimeCall) -> Weight {
        <T::ExtensionsWeightInfo as ExtensionsWeightInfo>::check_nonce()
    }

    fn validate(
        &self,
        origin: T::RuntimeOrigin,
        _call: &T::RuntimeCall,
        info: &DispatchInfoOf<T::RuntimeCall>,
        _len: usize,
        _implicit: Self::Implicit,
        _inherited: &impl Encode,
        _source: TransactionSource,
    ) -> ValidateResult<Self::Val, T::RuntimeCall> {
        let Some(who) = origin.as_system_origin_signer().cloned() else {
            return Ok((ValidTransaction::default(), None, origin));
        };
        let valid = Self::check(&who, self.0, info.pays_fee)?;
        Ok((valid, Some(who), origin))
    }

    fn prepare(
        self,
        val: Self::Val,
        _origin: &T::RuntimeOrigin,
        _call: &T::RuntimeCall,
        _info: &DispatchInfoOf<T::RuntimeCall>,
        _len: usize,
    ) -> Result<Self::Pre, TransactionValidityError> {
        let Some(who) = val else { return Ok(()) };
        let account = frame_system::Account::<T>::get(&who);
        if self.0 > account.nonce {
            return Err(InvalidTransaction::Future.into());
        }
        frame_system::Account::<T>::mutate(&who, |a| a.nonce = self.0.saturating_add(One::one()));
        Ok(())
    }

    fn post_dispatch_details(
        _pre: Self::Pre,
        _info: &DispatchInfo,
        _post_info: &PostDispatchInfoOf<T::RuntimeCall>,
        _len: usize,
        _result: &DispatchResult,
    ) -> Result<Weight, TransactionValidityError> {
        Ok(Weight::zero())
    }
}
