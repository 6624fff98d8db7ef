//! Commit-reveal v4 on the devnet runtime: the block author's beacon pulses, timelocked commits
//! (checks under subtensor's error names) and their reveal by the runtime in the reveal epoch.

use codec::Encode;
use frame_support::traits::UnfilteredDispatchable;
use kiln_devnet_runtime::{Runtime, RuntimeCall, RuntimeEvent, TAO, dev, drand, subtensor};
use kiln_drand::{WeightsTlockPayload, encrypt};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod common;

use common::{BLOCK_MS, Chain, START_MS, err, sub};

const CR_NET: u16 = 3;
const TEMPO: u16 = 8;

fn cr_subnet() -> subtensor::GenesisSubnet<kiln_devnet_runtime::AccountId> {
    subtensor::GenesisSubnet {
        commit_reveal: true,
        ..dev::fast_subnet(CR_NET, TEMPO)
    }
}

/// The round the dev beacon has reached at block `n`.
fn round_at_block(n: u32) -> u64 {
    dev::beacon_config(&dev::beacon())
        .clock()
        .round_at((START_MS + u64::from(n) * BLOCK_MS) / 1000)
}

/// Bob's weights `[uid 2 → 65535]` (or `hotkey`'s claim of them) encrypted to `round`.
fn ciphertext(hotkey: &str, round: u64, seed: u64) -> Vec<u8> {
    let payload = WeightsTlockPayload {
        hotkey: dev::key(hotkey).1.encode(),
        uids: vec![2],
        values: vec![65535],
        version_key: 0,
    };
    encrypt(
        &dev::beacon().public_key(),
        round,
        &payload.encode(),
        ChaCha20Rng::seed_from_u64(seed),
    )
    .unwrap()
}

fn commit(netuid: u16, ct: Vec<u8>, round: u64, version: u16) -> RuntimeCall {
    sub(subtensor::Call::commit_timelocked_weights {
        netuid,
        commit: ct.try_into().unwrap(),
        reveal_round: round,
        commit_reveal_version: version,
    })
}

fn register(hotkey: &str) -> RuntimeCall {
    sub(subtensor::Call::burned_register {
        netuid: CR_NET,
        hotkey: dev::key(hotkey).1,
    })
}

fn events() -> Vec<RuntimeEvent> {
    frame_system::Pallet::<Runtime>::events()
        .into_iter()
        .map(|r| r.event)
        .collect()
}

/// Bob (uid 1, staked) and Charlie (uid 2) on the commit-reveal subnet, Bob with a permit.
fn setup() -> Chain {
    let mut chain = Chain::with_subnets(vec![cr_subnet()]);
    let stake = sub(subtensor::Call::add_stake {
        hotkey: dev::key("//Bob").1,
        netuid: CR_NET,
        amount_staked: TAO,
    });
    let r = chain.block(vec![
        ("//Alice", register("//Bob")),
        ("//Alice", register("//Charlie")),
        ("//Alice", stake),
    ]);
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    chain.blocks_until(u32::from(TEMPO)); // epoch 1: Bob gets a permit
    chain
}

#[test]
fn the_author_stores_each_due_round_once_and_only_the_beacons() {
    let mut chain = Chain::new();
    chain.blocks_until(12);
    let beacon = dev::beacon();
    chain.read(|| {
        let last = drand::LastStoredRound::<Runtime>::get();
        assert_eq!(last, round_at_block(12));
        let oldest = drand::OldestStoredRound::<Runtime>::get();
        // The first block stores the round due then; each later one the rounds due since.
        assert_eq!(oldest, round_at_block(1));
        for round in oldest..=last {
            let pulse = drand::Pulses::<Runtime>::get(round).expect("every round stored");
            kiln_drand::verify_pulse(&beacon.public_key(), round, &pulse.signature).unwrap();
        }
        // Another key's pulse is not stored, and an old round is refused.
        let forged = drand::Pulse::new(
            last + 1,
            &kiln_drand::Beacon::from_seed(b"x").sign(last + 1),
        );
        let write = |pulses| {
            drand::Call::<Runtime>::write_pulse {
                pulses_payload: drand::PulsesPayload {
                    block_number: 12,
                    pulses,
                    public: drand::Relayer::Sr25519([0; 32]),
                },
                signature: None,
            }
            .dispatch_bypass_filter(frame_system::RawOrigin::None.into())
            .map(|_| ())
            .map_err(|e| e.error)
        };
        assert_eq!(write(vec![forged]), Ok(()));
        assert!(drand::Pulses::<Runtime>::get(last + 1).is_none());
        let stale = drand::Pulse::new(last, &beacon.sign(last));
        assert_eq!(
            write(vec![stale]),
            Err(drand::Error::<Runtime>::InvalidRoundNumber.into())
        );
    });
}

#[test]
fn a_timelocked_commit_is_revealed_by_the_chain_in_the_next_epoch() {
    let mut chain = setup();
    let next_epoch = 2 * u32::from(TEMPO);
    // The round due one block before the reveal epoch's first block.
    let round = round_at_block(next_epoch - 1);
    let now = chain.read(frame_system::Pallet::<Runtime>::block_number);
    assert!(
        round > round_at_block(now + 1),
        "the round is in the future"
    );
    let r = chain.block(vec![(
        "//Bob",
        commit(CR_NET, ciphertext("//Bob", round, 1), round, 4),
    )]);
    assert_eq!(r, vec![Ok(())]);
    chain.read(|| {
        assert!(events().iter().any(|e| matches!(e,
            RuntimeEvent::SubtensorModule(subtensor::Event::TimelockedWeightsCommitted(_, CR_NET, _, r)) if *r == round)));
        assert_eq!(subtensor::TimelockedWeightCommits::<Runtime>::get(CR_NET, 1).len(), 1);
        assert!(subtensor::Weights::<Runtime>::get(CR_NET, 1).is_empty());
    });
    // Still sealed at the last block of the commit epoch.
    chain.blocks_until(next_epoch - 1);
    chain.read(|| assert!(subtensor::Weights::<Runtime>::get(CR_NET, 1).is_empty()));
    // Opened at the start of the reveal epoch, before that block's Yuma run.
    chain.blocks_until(next_epoch);
    chain.read(|| {
        assert_eq!(subtensor::Weights::<Runtime>::get(CR_NET, 1), [(2, 65535)]);
        assert!(events().iter().any(|e| matches!(
            e,
            RuntimeEvent::SubtensorModule(subtensor::Event::TimelockedWeightsRevealed(CR_NET, _))
        )));
        assert!(subtensor::TimelockedWeightCommits::<Runtime>::get(CR_NET, 1).is_empty());
        // The epoch that ran in the same block already paid Charlie for Bob's weights.
        assert!(subtensor::Incentive::<Runtime>::get(CR_NET)[2] > 0);
    });
}

#[test]
fn commits_are_checked_under_subtensors_error_names() {
    let mut chain = setup();
    let round = round_at_block(3 * u32::from(TEMPO));
    let ct = || ciphertext("//Bob", round, 2);
    let r = chain.block(vec![
        ("//Bob", commit(CR_NET, ct(), round, 3)),
        ("//Bob", commit(1, ct(), round, 4)),
        ("//Dave", commit(CR_NET, ct(), round, 4)),
        (
            "//Bob",
            sub(subtensor::Call::commit_timelocked_mechanism_weights {
                netuid: CR_NET,
                mecid: 1,
                commit: ct().try_into().unwrap(),
                reveal_round: round,
                commit_reveal_version: 4,
            }),
        ),
    ]);
    assert_eq!(
        r,
        vec![
            err(subtensor::Error::IncorrectCommitRevealVersion),
            err(subtensor::Error::SubnetNotExists),
            err(subtensor::Error::HotKeyNotRegisteredInSubNet),
            err(subtensor::Error::MechanismDoesNotExist),
        ]
    );
    // Ten commits per hotkey and epoch (no rate limit on this subnet), then no more.
    let calls: Vec<_> = (0..11)
        .map(|i| {
            (
                "//Bob",
                commit(CR_NET, ciphertext("//Bob", round, i), round, 4),
            )
        })
        .collect();
    let r = chain.block(calls);
    assert!(r[..10].iter().all(Result::is_ok), "{r:?}");
    assert_eq!(r[10], err(subtensor::Error::TooManyUnrevealedCommits));
}

#[test]
fn a_commit_naming_another_hotkey_or_a_round_that_never_comes_is_not_applied() {
    let mut chain = setup();
    let next_epoch = 2 * u32::from(TEMPO);
    let round = round_at_block(next_epoch - 1);
    let never = round + 1_000_000;
    let r = chain.block(vec![
        // Charlie's ciphertext claims Bob's hotkey: the chain checks the committer.
        (
            "//Charlie",
            commit(CR_NET, ciphertext("//Bob", round, 3), round, 4),
        ),
        (
            "//Bob",
            commit(CR_NET, ciphertext("//Bob", never, 4), never, 4),
        ),
    ]);
    assert_eq!(r, vec![Ok(()), Ok(())]);
    chain.blocks_until(next_epoch);
    chain.read(|| {
        assert!(subtensor::Weights::<Runtime>::get(CR_NET, 2).is_empty());
        assert!(subtensor::Weights::<Runtime>::get(CR_NET, 1).is_empty());
        // Bob's commit waits for its round through the reveal epoch...
        assert_eq!(
            subtensor::TimelockedWeightCommits::<Runtime>::get(CR_NET, 1).len(),
            1
        );
    });
    // ...and is dropped when the epoch after it begins.
    chain.blocks_until(3 * u32::from(TEMPO));
    chain.read(|| {
        assert!(subtensor::TimelockedWeightCommits::<Runtime>::get(CR_NET, 1).is_empty());
        assert!(subtensor::Weights::<Runtime>::get(CR_NET, 1).is_empty());
    });
}
