//! The runtime executed natively, as the devnet node runs it: genesis, a block with the timestamp
//! inherent and a signed transfer, transaction validation, the byte-level API and the metadata.

use codec::{Decode, Encode};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use kiln_devnet_runtime::{
    AccountId, Executive, Runtime, RuntimeCall, TAO, UncheckedExtrinsic, dev,
};
use sp_io::TestExternalities;
use sp_runtime::traits::Header as _;
use sp_runtime::transaction_validity::{
    InvalidTransaction, TransactionSource, TransactionValidityError,
};
use sp_runtime::{BuildStorage, MultiAddress};

fn chain() -> TestExternalities {
    TestExternalities::new(dev::genesis(vec![]).build_storage().unwrap())
}

fn transfer(to: &AccountId, value: u64) -> RuntimeCall {
    RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: MultiAddress::Id(to.clone()),
        value,
    })
}

#[test]
fn authors_a_block_with_a_signed_transfer_and_validates_transactions() {
    let (alice_pair, alice) = dev::key("//Alice");
    let (bob_pair, bob) = dev::key("//Bob");
    let mut ext = chain();
    let xt = ext.execute_with(|| {
        let header = kiln_devnet_runtime::Header::new(
            1,
            Default::default(),
            Default::default(),
            Default::default(),
            Default::default(),
        );
        Executive::initialize_block(&header);
        let now = RuntimeCall::Timestamp(pallet_timestamp::Call::set { now: 1_000 });
        Executive::apply_extrinsic(UncheckedExtrinsic::new_bare(now))
            .unwrap()
            .unwrap();
        let xt = dev::signed(&alice_pair, transfer(&bob, 5 * TAO), 0);
        Executive::apply_extrinsic(xt.clone()).unwrap().unwrap();
        let header = Executive::finalize_block();
        assert_eq!(*header.number(), 1);
        assert_eq!(
            pallet_balances::Pallet::<Runtime>::free_balance(&bob),
            dev::DEV_BALANCE + 5 * TAO
        );
        let alice_left = pallet_balances::Pallet::<Runtime>::free_balance(&alice);
        assert!(
            alice_left < dev::DEV_BALANCE - 5 * TAO,
            "no fee was charged: {alice_left}"
        );
        assert_eq!(frame_system::Pallet::<Runtime>::account_nonce(&alice), 1);
        xt
    });

    ext.execute_with(|| {
        let best = frame_system::Pallet::<Runtime>::block_hash(0);
        let validate = |xt: UncheckedExtrinsic| {
            Executive::validate_transaction(TransactionSource::External, xt, best)
        };
        // Replaying nonce 0 is stale; nonce 1 is valid; a signature by the wrong key is refused.
        assert_eq!(
            validate(xt),
            Err(TransactionValidityError::Invalid(InvalidTransaction::Stale))
        );
        let next = dev::signed(&alice_pair, transfer(&bob, TAO), 1);
        assert!(validate(next).is_ok());
        let forged = dev::signed_as(&bob_pair, alice.clone(), transfer(&bob, TAO), 1);
        assert_eq!(
            validate(forged),
            Err(TransactionValidityError::Invalid(
                InvalidTransaction::BadProof
            ))
        );
    });
}

#[test]
fn byte_level_api_answers_like_a_wasm_runtime() {
    let (_, alice) = dev::key("//Alice");
    chain().execute_with(|| {
        let version = kiln_devnet_runtime::api::dispatch("Core_version", &[]).unwrap();
        let version = sp_version::RuntimeVersion::decode(&mut &version[..]).unwrap();
        assert_eq!(version.spec_name, "kiln-devnet");
        assert_eq!(version.transaction_version, 1);
        let nonce =
            kiln_devnet_runtime::api::dispatch("AccountNonceApi_account_nonce", &alice.encode())
                .unwrap();
        assert_eq!(u32::decode(&mut &nonce[..]).unwrap(), 0);
        assert!(kiln_devnet_runtime::api::dispatch("No_such_method", &[]).is_none());
    });
}

#[test]
fn metadata_v16_names_pallets_as_subtensor() {
    let versions = Runtime::metadata_versions();
    for v in [14, 15, 16] {
        assert!(versions.contains(&v), "{versions:?}");
    }
    let bytes = Runtime::metadata_at_version(16).unwrap();
    let prefixed = RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap();
    let RuntimeMetadata::V16(m) = prefixed.1 else {
        panic!("not V16");
    };
    let pallets: Vec<(&str, u8)> = m
        .pallets
        .iter()
        .map(|p| (p.name.as_str(), p.index))
        .collect();
    assert_eq!(
        pallets,
        [
            ("System", 0),
            ("Timestamp", 2),
            ("Aura", 3),
            ("Balances", 5),
            ("TransactionPayment", 6),
            ("SubtensorModule", 7),
            ("Sudo", 12),
            ("Commitments", 18),
            ("AdminUtils", 19),
            ("Drand", 26),
            ("MevShield", 30)
        ]
    );
    let extensions = &m.extrinsic.transaction_extensions_by_version[&0];
    let names: Vec<&str> = extensions
        .iter()
        .map(|i| {
            m.extrinsic.transaction_extensions[i.0 as usize]
                .identifier
                .as_str()
        })
        .collect();
    assert_eq!(
        names,
        [
            "CheckNonZeroSender",
            "CheckSpecVersion",
            "CheckTxVersion",
            "CheckGenesis",
            "CheckMortality",
            "CheckNonce",
            "CheckWeight",
            "ChargeTransactionPayment",
            "CheckMetadataHash"
        ]
    );
}
