//! The node's chain: authoring blocks through the runtime's API, pool outcomes, validation, and
//! runtime panics reported as errors.

use codec::Encode;
use kiln_devnet::{CallError, Chain, TxOutcome};
use kiln_devnet_runtime::{AccountId, Runtime, RuntimeCall, TAO, dev};
use sp_runtime::MultiAddress;
use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};

fn transfer(to: &AccountId, value: u64) -> RuntimeCall {
    RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: MultiAddress::Id(to.clone()),
        value,
    })
}

fn free(chain: &Chain, who: &AccountId) -> u64 {
    chain
        .execute_at(chain.best().hash, || {
            pallet_balances::Pallet::<Runtime>::free_balance(who)
        })
        .unwrap()
}

#[test]
fn authors_blocks_whose_roots_verify() {
    let mut chain = Chain::new(&dev::genesis(vec![dev::fast_subnet(1, 5)])).unwrap();
    assert_eq!(chain.best().header.number, 0);
    let genesis = chain.genesis_hash();
    chain.author(&[], 1_000).unwrap();
    let (alice_pair, _) = dev::key("//Alice");
    let (_, bob) = dev::key("//Bob");
    let xt = chain
        .execute_at(chain.best().hash, || {
            dev::signed(&alice_pair, transfer(&bob, 3 * TAO), 0).encode()
        })
        .unwrap();
    assert!(chain.validate(&xt).unwrap().is_ok());
    let parent = chain.best().hash;
    let (block, outcomes) = chain.author(std::slice::from_ref(&xt), 1_250).unwrap();
    assert_eq!(outcomes, [TxOutcome::Included]);
    assert_eq!(block.header.number, 2);
    assert_eq!(block.header.parent_hash, parent);
    assert_eq!(block.extrinsics.len(), 2, "timestamp inherent + transfer");
    assert_eq!(block.extrinsics[1], xt, "submitted bytes are kept verbatim");
    assert_eq!(free(&chain, &bob), dev::DEV_BALANCE + 3 * TAO);
    assert_eq!(chain.block_by_number(2), Some(&block));
    assert_eq!(chain.block(&genesis).unwrap().header.number, 0);

    // Every block re-executes on its parent state with matching state and extrinsics roots.
    for n in 1..=2 {
        let b = chain.block_by_number(n).unwrap().clone();
        chain
            .call(b.header.parent_hash, "Core_execute_block", &b.encoded())
            .unwrap_or_else(|e| panic!("block {n} does not re-execute: {e}"));
    }

    // Replaying the transfer is stale; nonce 5 is not yet valid.
    let future = chain
        .execute_at(chain.best().hash, || {
            dev::signed(&alice_pair, transfer(&bob, TAO), 5).encode()
        })
        .unwrap();
    let (block, outcomes) = chain.author(&[xt, future], 1_500).unwrap();
    assert_eq!(
        outcomes,
        [
            TxOutcome::Dropped(TransactionValidityError::Invalid(InvalidTransaction::Stale)),
            TxOutcome::Retry
        ]
    );
    assert_eq!(block.extrinsics.len(), 1);
    assert_eq!(free(&chain, &bob), dev::DEV_BALANCE + 3 * TAO);
}

#[test]
fn runtime_panics_and_unknown_inputs_are_errors() {
    let chain = Chain::new(&dev::genesis(vec![])).unwrap();
    let best = chain.best().hash;
    assert!(matches!(
        chain.validate(b"\x01\x02garbage"),
        Err(CallError::Panicked(_))
    ));
    assert_eq!(
        chain.call(best, "No_such_api", &[]),
        Err(CallError::UnknownMethod("No_such_api".into()))
    );
    let unknown = sp_core::H256::repeat_byte(7);
    assert_eq!(
        chain.call(unknown, "Core_version", &[]),
        Err(CallError::UnknownBlock(unknown))
    );
    assert!(chain.call(best, "Core_version", &[]).is_ok());
    let key = sp_core::storage::well_known_keys::CODE;
    assert_eq!(chain.storage(best, key).unwrap(), Some(Vec::new()));
}
