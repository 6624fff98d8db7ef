//! The calls and reads today's Bittensor SDK uses beside the legacy ones: limit-price staking,
//! mechanism weights (plain and hash commit-reveal) for mechanism 0, the stake and pool views,
//! and the epoch schedule kept in subtensor's storage.

use kiln_devnet_runtime::subtensor;
use kiln_devnet_runtime::{Runtime, RuntimeCall, TAO, dev};
use sp_runtime::traits::{BlakeTwo256, Hash as _};

mod common;

use common::{Chain, NET, TEMPO, err, sub};

fn register(hotkey: &str) -> RuntimeCall {
    sub(subtensor::Call::burned_register {
        netuid: NET,
        hotkey: dev::key(hotkey).1,
    })
}

fn stake_limit(hotkey: &str, limit_price: u64, allow_partial: bool) -> RuntimeCall {
    sub(subtensor::Call::add_stake_limit {
        hotkey: dev::key(hotkey).1,
        netuid: NET,
        amount_staked: TAO,
        limit_price,
        allow_partial,
    })
}

#[test]
fn limit_price_staking_executes_only_at_the_price_or_better() {
    let mut chain = Chain::new();
    let (alice, bob) = (dev::key("//Alice").1, dev::key("//Bob").1);
    let r = chain.block(vec![
        ("//Alice", register("//Bob")),
        ("//Alice", stake_limit("//Bob", TAO - 1, false)),
        ("//Alice", stake_limit("//Bob", TAO - 1, true)),
        ("//Alice", stake_limit("//Bob", TAO, false)),
    ]);
    assert_eq!(
        r,
        vec![
            Ok(()),
            err(subtensor::Error::SlippageTooHigh),
            err(subtensor::Error::ZeroMaxStakeAmount),
            Ok(())
        ]
    );
    chain.read(|| {
        assert_eq!(subtensor::TotalHotkeyAlpha::<Runtime>::get(&bob, NET), TAO);
        let infos = subtensor::Pallet::<Runtime>::stake_infos(&alice);
        let bobs: Vec<_> = infos.iter().filter(|i| i.hotkey == bob).collect();
        assert_eq!(bobs.len(), 1, "{infos:?}");
        assert_eq!(bobs[0].stake.0, TAO);
        assert!(bobs[0].is_registered);
        assert!(
            subtensor::Pallet::<Runtime>::stake_info(&bob, &dev::key("//Bob").1, NET).is_none()
        );
        let pool = subtensor::Pallet::<Runtime>::dynamic_info(NET).unwrap();
        assert!(pool.alpha_out.0 >= TAO, "issued alpha counts Bob's stake");
        assert_eq!(pool.token_symbol.len(), "α".len());
    });
}

#[test]
fn mechanism_weights_are_mechanism_zeros() {
    let mut chain = Chain::new();
    let set = |mecid| {
        sub(subtensor::Call::set_mechanism_weights {
            netuid: NET,
            mecid,
            dests: vec![1],
            weights: vec![1],
            version_key: 0,
        })
    };
    let r = chain.block(vec![
        ("//Alice", register("//Bob")),
        ("//Ferdie", set(1)),
        ("//Ferdie", set(0)),
    ]);
    assert_eq!(
        r,
        vec![Ok(()), err(subtensor::Error::MechanismDoesNotExist), Ok(())]
    );
    chain.read(|| assert_eq!(subtensor::Weights::<Runtime>::get(NET, 0), [(1, 65535)]));
}

#[test]
fn mechanism_hash_commit_reveal_uses_the_plain_hash() {
    use kiln_devnet_runtime::admin;
    let mut chain = Chain::new();
    let (_, ferdie) = dev::key("//Ferdie");
    let salt = vec![3u16, 1, 4];
    let hash = BlakeTwo256::hash_of(&(
        ferdie.clone(),
        NET,
        vec![1u16],
        vec![65535u16],
        salt.clone(),
        0u64,
    ));
    let enable = RuntimeCall::AdminUtils(admin::Call::sudo_set_commit_reveal_weights_enabled {
        netuid: NET,
        enabled: true,
    });
    let commit = |mecid| {
        sub(subtensor::Call::commit_mechanism_weights {
            netuid: NET,
            mecid,
            commit_hash: hash,
        })
    };
    let r = chain.block(vec![
        ("//Alice", enable),
        ("//Alice", register("//Bob")),
        ("//Ferdie", commit(2)),
        ("//Ferdie", commit(0)),
    ]);
    assert_eq!(
        r,
        vec![
            Ok(()),
            Ok(()),
            err(subtensor::Error::MechanismDoesNotExist),
            Ok(())
        ]
    );
    chain.blocks_until(u32::from(TEMPO) + 1);
    let reveal = sub(subtensor::Call::reveal_mechanism_weights {
        netuid: NET,
        mecid: 0,
        uids: vec![1],
        values: vec![65535],
        salt,
        version_key: 0,
    });
    assert_eq!(chain.block(vec![("//Ferdie", reveal)]), vec![Ok(())]);
    chain.read(|| assert_eq!(subtensor::Weights::<Runtime>::get(NET, 0), [(1, 65535)]));
}

#[test]
fn the_epoch_schedule_is_kept_in_subtensors_storage() {
    let mut chain = Chain::new();
    chain.blocks_until(2 * u32::from(TEMPO) + 2);
    chain.read(|| {
        let tempo = u64::from(TEMPO);
        assert_eq!(subtensor::SubnetEpochIndex::<Runtime>::get(NET), 2);
        assert_eq!(subtensor::LastEpochBlock::<Runtime>::get(NET), 2 * tempo);
        assert_eq!(subtensor::BlocksSinceLastStep::<Runtime>::get(NET), 2);
        assert_eq!(subtensor::PendingEpochAt::<Runtime>::get(NET), 0);
        assert_eq!(
            subtensor::Pallet::<Runtime>::next_epoch_start_block(NET),
            Some(3 * tempo)
        );
        assert_eq!(
            subtensor::Pallet::<Runtime>::next_epoch_start_block(99),
            None
        );
    });
}

#[test]
fn the_block_time_constant_is_the_genesis_slot_duration() {
    use kiln_devnet_runtime::aura;
    use sp_runtime::BuildStorage;
    let mut genesis = dev::genesis(vec![dev::fast_subnet(NET, TEMPO)]);
    genesis.aura.slot_duration_ms = 1_000;
    let mut ext = sp_io::TestExternalities::new(genesis.build_storage().unwrap());
    ext.execute_with(|| assert_eq!(aura::Pallet::<Runtime>::SlotDuration(), 1_000));
    // Metadata built without a chain state carries the default.
    assert_eq!(
        aura::Pallet::<Runtime>::SlotDuration(),
        aura::DEFAULT_SLOT_DURATION_MS
    );
}
