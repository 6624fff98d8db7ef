//! Subnets created by extrinsic, as Bittensor's SDK tests do it: `register_network`, the owner's
//! hyperparameters, `start_call`, then epochs; and each refusal by subtensor's error name.

mod common;

use common::{Chain, NET, err, sub};
use kiln_devnet_runtime::{Runtime, RuntimeCall, TAO, admin, dev, subtensor};
use sp_runtime::DispatchError;
use subtensor::Error;

fn register_network(hotkey: &str) -> RuntimeCall {
    sub(subtensor::Call::register_network {
        hotkey: dev::key(hotkey).1,
    })
}

fn start_call(netuid: u16) -> RuntimeCall {
    sub(subtensor::Call::start_call { netuid })
}

/// A root-only `AdminUtils` call through `Sudo`.
fn sudo(call: admin::Call<Runtime>) -> RuntimeCall {
    RuntimeCall::Sudo(pallet_sudo::Call::sudo {
        call: Box::new(RuntimeCall::AdminUtils(call)),
    })
}

fn balance(uri: &str) -> u64 {
    pallet_balances::Pallet::<Runtime>::free_balance(dev::key(uri).1)
}

#[test]
fn a_registered_network_runs_epochs_only_after_start_call() {
    let mut chain = Chain::new();
    let before = chain.read(|| balance("//Dave"));
    let r = chain.block(vec![("//Dave", register_network("//Eve"))]);
    assert_eq!(r, [Ok(())]);
    let net = NET + 1;
    chain.read(|| {
        assert!(subtensor::NetworksAdded::<Runtime>::get(net));
        assert_eq!(
            subtensor::SubnetOwner::<Runtime>::get(net),
            dev::key("//Dave").1
        );
        assert_eq!(
            subtensor::SubnetOwnerHotkey::<Runtime>::get(net),
            dev::key("//Eve").1
        );
        assert_eq!(subtensor::Keys::<Runtime>::get(net, 0), dev::key("//Eve").1);
        assert_eq!(subtensor::SubnetworkN::<Runtime>::get(net), 1);
        assert_eq!(subtensor::NetworkRegisteredAt::<Runtime>::get(net), 1);
        assert_eq!(subtensor::SubnetLocked::<Runtime>::get(net), 1_000 * TAO);
        assert_eq!(
            subtensor::FirstEmissionBlockNumber::<Runtime>::get(net),
            None
        );
        // subtensor's defaults, not the genesis subnet's fast ones.
        assert_eq!(subtensor::Tempo::<Runtime>::get(net), 360);
        assert!(subtensor::CommitRevealWeightsEnabled::<Runtime>::get(net));
        let paid = before - balance("//Dave");
        assert!((1_000 * TAO..1_001 * TAO).contains(&paid), "paid {paid}");
        let added = frame_system::Pallet::<Runtime>::events()
            .into_iter()
            .any(|e| {
                e.event
                    == kiln_devnet_runtime::RuntimeEvent::SubtensorModule(
                        subtensor::Event::NetworkAdded(net, 1),
                    )
            });
        assert!(added, "NetworkAdded(2, 1) was emitted");
    });

    // The owner shortens the tempo; without start_call no epoch runs.
    let tempo = RuntimeCall::AdminUtils(admin::Call::sudo_set_tempo {
        netuid: net,
        tempo: 3,
    });
    assert_eq!(chain.block(vec![("//Dave", tempo)]), [Ok(())]);
    chain.blocks_until(12);
    chain.read(|| assert_eq!(subtensor::LastMechansimStepBlock::<Runtime>::get(net), 1));

    let r = chain.block(vec![
        ("//Bob", start_call(net)),
        ("//Dave", start_call(net)),
        ("//Dave", start_call(net)),
        ("//Dave", start_call(9)),
    ]);
    assert_eq!(r[0], Err(DispatchError::BadOrigin));
    assert_eq!(r[1], Ok(()));
    assert_eq!(r[2], err(Error::FirstEmissionBlockNumberAlreadySet));
    assert_eq!(r[3], err(Error::SubnetNotExists));
    chain.read(|| {
        assert_eq!(
            subtensor::FirstEmissionBlockNumber::<Runtime>::get(net),
            Some(14)
        );
    });
    chain.blocks_until(20);
    chain.read(|| {
        let last = subtensor::LastMechansimStepBlock::<Runtime>::get(net);
        assert!(
            last >= 14,
            "an epoch ran after the first emission block: {last}"
        );
        assert_eq!(subtensor::Incentive::<Runtime>::get(net).len(), 1);
    });
}

#[test]
fn register_network_and_start_call_refusals() {
    let mut chain = Chain::new();
    // Bob's hotkey belongs to Alice once she registers it.
    let r = chain.block(vec![(
        "//Alice",
        sub(subtensor::Call::burned_register {
            netuid: NET,
            hotkey: dev::key("//Bob").1,
        }),
    )]);
    assert_eq!(r, [Ok(())]);
    let r = chain.block(vec![("//Dave", register_network("//Bob"))]);
    assert_eq!(r, [err(Error::NonAssociatedColdKey)]);

    let lock_cost = |lock_cost| admin::Call::sudo_set_network_min_lock_cost { lock_cost };
    let limit = |max_subnets| admin::Call::sudo_set_subnet_limit { max_subnets };
    let r = chain.block(vec![
        ("//Dave", RuntimeCall::AdminUtils(lock_cost(TAO))),
        ("//Alice", sudo(lock_cost(u64::MAX / 2))),
        ("//Dave", register_network("//Eve")),
        ("//Alice", sudo(lock_cost(TAO))),
        ("//Alice", sudo(limit(1))),
        ("//Dave", register_network("//Eve")),
        ("//Alice", sudo(limit(8))),
        (
            "//Alice",
            sudo(admin::Call::sudo_set_start_call_delay { delay: 10 }),
        ),
        ("//Dave", register_network("//Eve")),
    ]);
    assert_eq!(r[0], Err(DispatchError::BadOrigin), "root only");
    assert_eq!(r[2], err(Error::CannotAffordLockCost));
    assert_eq!(r[5], err(Error::SubnetLimitReached));
    assert_eq!(r[8], Ok(()));
    assert!(
        r.iter()
            .enumerate()
            .all(|(i, x)| [0, 2, 5].contains(&i) || x.is_ok()),
        "{r:?}"
    );
    chain.read(|| {
        assert_eq!(subtensor::NetworkMinLockCost::<Runtime>::get(), TAO);
        assert_eq!(subtensor::SubnetLimit::<Runtime>::get(), 8);
        assert_eq!(subtensor::StartCallDelay::<Runtime>::get(), 10);
    });
    let registered = chain.read(|| subtensor::NetworkRegisteredAt::<Runtime>::get(NET + 1));
    let r = chain.block(vec![("//Dave", start_call(NET + 1))]);
    assert_eq!(r, [err(Error::NeedWaitingMoreBlocksToStarCall)]);
    chain.blocks_until(u32::try_from(registered).unwrap() + 9);
    let r = chain.block(vec![("//Dave", start_call(NET + 1))]);
    assert_eq!(r, [Ok(())], "the delay has passed");

    // The lowest free netuid is taken next.
    let r = chain.block(vec![("//Charlie", register_network("//Charlie//subnet"))]);
    assert_eq!(r, [Ok(())]);
    chain.read(|| {
        assert_eq!(
            subtensor::SubnetOwner::<Runtime>::get(NET + 2),
            dev::key("//Charlie").1
        );
        assert_eq!(subtensor::TotalNetworks::<Runtime>::get(), 2);
    });
}
