//! A subnet's life on the devnet runtime, executed natively block by block: registration,
//! staking, serving, weights (valid and each invalid class, by subtensor's error names) and the
//! Yuma epoch paying incentive and dividends.

use kiln_devnet_runtime::subtensor;
use kiln_devnet_runtime::{Runtime, RuntimeCall, TAO, dev};
use sp_runtime::DispatchError;
use sp_runtime::traits::Hash as _;

mod common;

use common::{Chain, NET, TEMPO, err, sub};

fn register(hotkey: &str) -> RuntimeCall {
    sub(subtensor::Call::burned_register {
        netuid: NET,
        hotkey: dev::key(hotkey).1,
    })
}

fn weights(dests: &[u16], values: &[u16]) -> RuntimeCall {
    sub(subtensor::Call::set_weights {
        netuid: NET,
        dests: dests.to_vec(),
        weights: values.to_vec(),
        version_key: 0,
    })
}

#[test]
fn register_stake_serve_set_weights_and_earn() {
    let mut chain = Chain::new();
    let (_, bob) = dev::key("//Bob");
    let (_, charlie) = dev::key("//Charlie");
    let before =
        chain.read(|| pallet_balances::Pallet::<Runtime>::free_balance(dev::key("//Alice").1));
    let r = chain.block(vec![
        ("//Alice", register("//Bob")),
        ("//Alice", register("//Charlie")),
        ("//Alice", register("//Bob")),
        ("//Dave", register("//Charlie")),
    ]);
    assert_eq!(r[0], Ok(()));
    assert_eq!(r[1], Ok(()));
    assert_eq!(r[2], err(subtensor::Error::HotKeyAlreadyRegisteredInSubNet));
    assert_eq!(r[3], err(subtensor::Error::HotKeyAlreadyRegisteredInSubNet));
    chain.read(|| {
        assert_eq!(subtensor::SubnetworkN::<Runtime>::get(NET), 3);
        assert_eq!(subtensor::Uids::<Runtime>::get(NET, &bob), Some(1));
        assert_eq!(subtensor::Keys::<Runtime>::get(NET, 2), charlie);
        assert_eq!(subtensor::BlockAtRegistration::<Runtime>::get(NET, 1), 1);
        let after = pallet_balances::Pallet::<Runtime>::free_balance(dev::key("//Alice").1);
        assert!(
            before - after >= 2 * TAO,
            "burn not charged: {before} -> {after}"
        );
    });

    let stake = sub(subtensor::Call::add_stake {
        hotkey: bob.clone(),
        netuid: NET,
        amount_staked: 100 * TAO,
    });
    let not_owner = sub(subtensor::Call::add_stake {
        hotkey: bob.clone(),
        netuid: NET,
        amount_staked: TAO,
    });
    let serve = |ip_type: u8, ip: u128, port: u16| {
        sub(subtensor::Call::serve_axon {
            netuid: NET,
            version: 1,
            ip,
            port,
            ip_type,
            protocol: 4,
            placeholder1: 0,
            placeholder2: 0,
        })
    };
    let r = chain.block(vec![
        ("//Alice", stake),
        ("//Dave", not_owner),
        ("//Bob", serve(4, 0x0a00_0001, 8091)),
        ("//Bob", serve(5, 0x0a00_0001, 8091)),
        ("//Bob", serve(4, 0x7f00_0001, 8091)),
        ("//Bob", serve(4, 0x0a00_0001, 0)),
        ("//Dave", serve(4, 0x0a00_0001, 8091)),
    ]);
    assert_eq!(
        r,
        vec![
            Ok(()),
            err(subtensor::Error::NonAssociatedColdKey),
            Ok(()),
            err(subtensor::Error::InvalidIpType),
            err(subtensor::Error::InvalidIpAddress),
            err(subtensor::Error::InvalidPort),
            err(subtensor::Error::HotKeyNotRegisteredInSubNet),
        ]
    );
    chain.read(|| {
        assert_eq!(
            subtensor::TotalHotkeyAlpha::<Runtime>::get(&bob, NET),
            100 * TAO
        );
        let axon = subtensor::Axons::<Runtime>::get(NET, &bob).unwrap();
        assert_eq!((axon.ip, axon.port, axon.block), (0x0a00_0001, 8091, 2));
    });

    // The first epoch (block 5) hands Bob, the only staked hotkey, a validator permit.
    chain.blocks_until(u32::from(TEMPO));
    chain.read(|| {
        assert_eq!(
            subtensor::ValidatorPermit::<Runtime>::get(NET),
            [true, true, false]
        );
        assert_eq!(subtensor::LastMechansimStepBlock::<Runtime>::get(NET), 5);
    });

    let r = chain.block(vec![
        ("//Bob", weights(&[2], &[65535])),
        ("//Charlie", weights(&[0, 1], &[1, 1])),
        ("//Charlie", weights(&[2], &[7])),
        ("//Bob", weights(&[2, 2], &[1, 1])),
        ("//Bob", weights(&[2], &[1, 2])),
        ("//Bob", weights(&[2, 9], &[1, 2])),
        ("//Bob", weights(&[0, 1, 2, 0], &[1, 1, 1, 1])),
        ("//Dave", weights(&[2], &[1])),
    ]);
    assert_eq!(
        r,
        vec![
            Ok(()),
            err(subtensor::Error::NeuronNoValidatorPermit),
            Ok(()),
            err(subtensor::Error::DuplicateUids),
            err(subtensor::Error::WeightVecNotEqualSize),
            err(subtensor::Error::UidVecContainInvalidOne),
            err(subtensor::Error::UidsLengthExceedUidsInSubNet),
            err(subtensor::Error::HotKeyNotRegisteredInSubNet),
        ]
    );
    chain.read(|| {
        assert_eq!(subtensor::Weights::<Runtime>::get(NET, 1), [(2, 65535)]);
        assert_eq!(subtensor::Weights::<Runtime>::get(NET, 2), [(2, 65535)]);
        assert_eq!(subtensor::LastUpdate::<Runtime>::get(NET), [0, 6, 6]);
    });

    // The next epoch (block 10) pays Charlie incentive and Bob dividends.
    let charlie_before = chain.read(|| subtensor::TotalHotkeyAlpha::<Runtime>::get(&charlie, NET));
    chain.blocks_until(2 * u32::from(TEMPO));
    chain.read(|| {
        assert_eq!(subtensor::Incentive::<Runtime>::get(NET), [0, 0, 65535]);
        assert_eq!(subtensor::Dividends::<Runtime>::get(NET), [0, 65535, 0]);
        assert_eq!(subtensor::Consensus::<Runtime>::get(NET)[2], 65535);
        let emission = subtensor::Emission::<Runtime>::get(NET);
        assert_eq!(emission[0], 0);
        assert!(emission[1] > 0 && emission[2] > 0, "{emission:?}");
        assert_eq!(subtensor::Bonds::<Runtime>::get(NET, 1), [(2, 65535)]);
        assert!(subtensor::TotalHotkeyAlpha::<Runtime>::get(&charlie, NET) > charlie_before);
    });
}

#[test]
fn commit_reveal_subnets_refuse_plain_weights() {
    let mut chain = Chain::new();
    chain.read(|| subtensor::CommitRevealWeightsEnabled::<Runtime>::insert(NET, true));
    let r = chain.block(vec![("//Dave", weights(&[0], &[1]))]);
    assert_eq!(r, vec![err(subtensor::Error::CommitRevealEnabled)]);
}

fn commit(bytes: &[u8]) -> RuntimeCall {
    use kiln_devnet_runtime::commitments::{self, CommitmentInfo, Data};
    let field = Data::Raw(bytes.to_vec().try_into().unwrap());
    RuntimeCall::Commitments(commitments::Call::set_commitment {
        netuid: NET,
        info: Box::new(CommitmentInfo {
            fields: vec![field].try_into().unwrap(),
        }),
    })
}

#[test]
fn commitments_are_stored_and_limited_per_epoch() {
    use kiln_devnet_runtime::commitments::{self, Data};
    let mut chain = Chain::new();
    let (_, bob) = dev::key("//Bob");
    chain.block(vec![("//Alice", register("//Bob"))]);
    // 31 commitments of 100 bytes fill the 3,100-byte quota; the 32nd is refused.
    let mut calls: Vec<(&str, RuntimeCall)> =
        (0..32u8).map(|i| ("//Bob", commit(&[i; 100]))).collect();
    calls.push(("//Dave", commit(b"not registered")));
    let r = chain.block(calls);
    assert!(r[..31].iter().all(Result::is_ok), "{r:?}");
    assert_eq!(
        r[31],
        Err(commitments::Error::<Runtime>::SpaceLimitExceeded.into())
    );
    assert_eq!(
        r[32],
        Err(commitments::Error::<Runtime>::AccountNotAllowedCommit.into())
    );
    chain.read(|| {
        let reg = commitments::CommitmentOf::<Runtime>::get(NET, &bob).unwrap();
        assert_eq!(reg.block, 2);
        assert_eq!(
            reg.info.fields[0],
            Data::Raw(vec![30; 100].try_into().unwrap())
        );
        assert_eq!(
            commitments::LastCommitment::<Runtime>::get(NET, &bob),
            Some(2)
        );
        assert_eq!(
            commitments::UsedSpaceOf::<Runtime>::get(NET, &bob)
                .unwrap()
                .used_space,
            3100
        );
    });
    // A short commitment still costs 100 bytes; after the epoch at block 5 the quota is fresh.
    assert_eq!(
        chain.block(vec![("//Bob", commit(b"w"))]),
        vec![Err(commitments::Error::<Runtime>::SpaceLimitExceeded.into())]
    );
    chain.blocks_until(u32::from(TEMPO));
    assert_eq!(chain.block(vec![("//Bob", commit(b"w"))]), vec![Ok(())]);
    chain.read(|| {
        assert_eq!(
            commitments::UsedSpaceOf::<Runtime>::get(NET, &bob)
                .unwrap()
                .used_space,
            100
        );
    });
}

#[test]
fn owner_and_sudo_set_hyperparameters() {
    use kiln_devnet_runtime::admin;
    let mut chain = Chain::new();
    let admin_call = |c: admin::Call<Runtime>| RuntimeCall::AdminUtils(c);
    let tempo = admin_call(admin::Call::sudo_set_tempo {
        netuid: NET,
        tempo: 9,
    });
    let shrink = admin_call(admin::Call::sudo_set_max_allowed_uids {
        netuid: NET,
        max_allowed_uids: 0,
    });
    let threshold = admin_call(admin::Call::sudo_set_stake_threshold { min_stake: 7 });
    let missing = admin_call(admin::Call::sudo_set_kappa {
        netuid: 9,
        kappa: 1,
    });
    let as_sudo = RuntimeCall::Sudo(pallet_sudo::Call::sudo {
        call: Box::new(threshold.clone()),
    });
    let r = chain.block(vec![
        ("//Alice", tempo.clone()),
        ("//Bob", tempo),
        ("//Alice", shrink),
        ("//Alice", threshold),
        ("//Alice", as_sudo),
        ("//Alice", missing),
    ]);
    assert_eq!(r[0], Ok(()));
    assert_eq!(r[1], Err(DispatchError::BadOrigin));
    assert_eq!(
        r[2],
        Err(admin::Error::<Runtime>::MaxAllowedUIdsLessThanCurrentUIds.into())
    );
    assert_eq!(
        r[3],
        Err(DispatchError::BadOrigin),
        "the stake threshold is root only"
    );
    assert_eq!(r[4], Ok(()));
    assert_eq!(
        r[5],
        Err(admin::Error::<Runtime>::SubnetDoesNotExist.into())
    );
    chain.read(|| {
        assert_eq!(subtensor::Tempo::<Runtime>::get(NET), 9);
        assert_eq!(subtensor::StakeThreshold::<Runtime>::get(), 7);
    });
}

#[test]
fn commit_reveal_weights() {
    use kiln_devnet_runtime::admin;
    use sp_runtime::traits::BlakeTwo256;
    let mut chain = Chain::new();
    let (_, bob) = dev::key("//Bob");
    let hash = |salt: &[u16]| {
        BlakeTwo256::hash_of(&(
            bob.clone(),
            NET,
            vec![2u16],
            vec![65535u16],
            salt.to_vec(),
            0u64,
        ))
    };
    let commit = |h| {
        sub(subtensor::Call::commit_weights {
            netuid: NET,
            commit_hash: h,
        })
    };
    let reveal = |salt: &[u16]| {
        sub(subtensor::Call::reveal_weights {
            netuid: NET,
            uids: vec![2],
            values: vec![65535],
            salt: salt.to_vec(),
            version_key: 0,
        })
    };
    assert_eq!(
        chain.block(vec![
            ("//Alice", register("//Bob")),
            ("//Bob", commit(hash(&[7])))
        ]),
        vec![Ok(()), err(subtensor::Error::CommitRevealDisabled)]
    );
    let enable = RuntimeCall::AdminUtils(admin::Call::sudo_set_commit_reveal_weights_enabled {
        netuid: NET,
        enabled: true,
    });
    let stake = sub(subtensor::Call::add_stake {
        hotkey: bob.clone(),
        netuid: NET,
        amount_staked: TAO,
    });
    let r = chain.block(vec![
        ("//Alice", enable),
        ("//Alice", register("//Charlie")),
        ("//Alice", stake),
    ]);
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    chain.blocks_until(u32::from(TEMPO)); // epoch 1 starts: Bob gets a permit

    // Epoch 1: commit; revealing now is too early, and a wrong salt matches nothing.
    let r = chain.block(vec![
        ("//Bob", commit(hash(&[7, 7]))),
        ("//Bob", reveal(&[7, 7])),
        ("//Dave", commit(hash(&[1]))),
    ]);
    assert_eq!(
        r,
        vec![
            Ok(()),
            err(subtensor::Error::RevealTooEarly),
            err(subtensor::Error::HotKeyNotRegisteredInSubNet)
        ]
    );
    chain.read(|| assert_eq!(subtensor::LastUpdate::<Runtime>::get(NET)[1], 6));

    // Epoch 2: the reveal stores the weights.
    chain.blocks_until(2 * u32::from(TEMPO));
    let r = chain.block(vec![("//Bob", reveal(&[7, 8])), ("//Bob", reveal(&[7, 7]))]);
    assert_eq!(
        r,
        vec![
            err(subtensor::Error::InvalidRevealCommitHashNotMatch),
            Ok(())
        ]
    );
    chain.read(|| {
        assert_eq!(subtensor::Weights::<Runtime>::get(NET, 1), [(2, 65535)]);
        assert!(subtensor::WeightCommits::<Runtime>::get(NET, &bob).is_none());
    });

    // A commit not revealed in the following epoch expires.
    assert_eq!(
        chain.block(vec![("//Bob", commit(hash(&[9])))]),
        vec![Ok(())]
    );
    chain.blocks_until(4 * u32::from(TEMPO));
    assert_eq!(
        chain.block(vec![("//Bob", reveal(&[9]))]),
        vec![err(subtensor::Error::ExpiredWeightCommit)]
    );
    assert_eq!(
        chain.block(vec![("//Bob", reveal(&[1, 2, 3]))]),
        vec![err(subtensor::Error::InvalidRevealCommitHashNotMatch)]
    );
}

#[test]
fn a_hotkey_without_balance_signs_fee_less_calls_only() {
    use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};
    let mut chain = Chain::new();
    let hotkey = "//kiln-unfunded-hotkey";
    assert_eq!(chain.block(vec![("//Alice", register(hotkey))]), [Ok(())]);
    chain.read(|| {
        let account = frame_system::Account::<Runtime>::get(dev::key(hotkey).1);
        assert_eq!((account.providers, account.data.free), (0, 0), "no account");
    });
    let serve = sub(subtensor::Call::serve_axon {
        netuid: NET,
        version: 1,
        ip: 0x0a00_0001,
        port: 8091,
        ip_type: 4,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    });
    // Weights on itself (uid 1) need no validator permit.
    let r = chain.try_block(vec![(hotkey, serve), (hotkey, weights(&[1], &[1]))]);
    assert!(matches!(r[0], Ok(Ok(()))), "{r:?}");
    assert!(matches!(r[1], Ok(Ok(()))), "{r:?}");
    chain.read(|| {
        let who = dev::key(hotkey).1;
        assert_eq!(frame_system::Pallet::<Runtime>::account_nonce(&who), 2);
        assert!(subtensor::Axons::<Runtime>::get(NET, &who).is_some());
    });
    // A call that pays a fee still needs an existing account.
    let pay = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: sp_runtime::MultiAddress::Id(dev::key("//Bob").1),
        value: 1,
    });
    let r = chain.try_block(vec![(hotkey, pay)]);
    assert_eq!(
        r,
        [Err(TransactionValidityError::Invalid(
            InvalidTransaction::Payment
        ))]
    );
}
