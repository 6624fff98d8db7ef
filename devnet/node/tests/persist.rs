//! `--state-file`: a chain saved and resumed continues where it stopped, through the node as
//! through the chain; a damaged, foreign or other-version file is refused with its reason.

use codec::Encode;
use kiln_devnet::persist::{resume, save};
use kiln_devnet::{Chain, NodeConfig, NodeError, StateFileError, spawn};
use kiln_devnet_runtime::{Runtime, RuntimeCall, RuntimeGenesisConfig, TAO, dev};
use sp_runtime::MultiAddress;

fn genesis() -> RuntimeGenesisConfig {
    dev::genesis(vec![dev::fast_subnet(1, 5)])
}

fn free(chain: &Chain, uri: &str) -> u64 {
    let who = dev::key(uri).1;
    chain
        .execute_at(chain.best().hash, || {
            pallet_balances::Pallet::<Runtime>::free_balance(&who)
        })
        .unwrap()
}

/// A chain of a few blocks, one with a transfer of 5 TAO from Alice to Bob.
fn grown() -> Chain {
    let mut chain = Chain::new(&genesis()).unwrap();
    chain.author(&[], 1_000).unwrap();
    let (alice, _) = dev::key("//Alice");
    let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: MultiAddress::Id(dev::key("//Bob").1),
        value: 5 * TAO,
    });
    let xt = chain
        .execute_at(chain.best().hash, || dev::signed(&alice, call, 0).encode())
        .unwrap();
    chain.author(&[xt], 1_250).unwrap();
    chain.author(&[], 1_500).unwrap();
    chain
}

#[test]
fn a_resumed_chain_has_the_same_blocks_and_state_and_grows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.state");
    let chain = grown();
    save(&chain, &path).unwrap();
    let fresh = Chain::new(&genesis()).unwrap();
    let mut back = resume(&path, &fresh).unwrap();
    assert_eq!(back.best(), chain.best());
    assert_eq!(back.genesis_hash(), chain.genesis_hash());
    for n in 0..=3 {
        assert_eq!(back.block_by_number(n), chain.block_by_number(n));
    }
    assert_eq!(free(&back, "//Bob"), dev::DEV_BALANCE + 5 * TAO);
    let (next, _) = back.author(&[], 1_750).unwrap();
    assert_eq!(next.header.number, 4);
    assert_eq!(next.header.parent_hash, chain.best().hash);
    // Past states are not kept: calls there answer as on a pruned node.
    assert!(
        back.call(chain.genesis_hash(), "Core_version", &[])
            .is_err()
    );
}

#[test]
fn damaged_foreign_and_other_version_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.state");
    save(&grown(), &path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let fresh = Chain::new(&genesis()).unwrap();
    let with = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        resume(&path, &fresh).map(|_| ()).unwrap_err()
    };

    assert!(matches!(
        with(b"not a state file"),
        StateFileError::Corrupt { .. }
    ));
    assert!(matches!(
        with(&good[..good.len() / 2]),
        StateFileError::Corrupt { .. }
    ));
    let mut longer = good.clone();
    longer.push(0);
    let e = with(&longer);
    assert!(e.to_string().contains("trailing"), "{e}");
    let mut version = good.clone();
    version[8] = 9;
    assert!(matches!(
        with(&version),
        StateFileError::Version { found: 9, .. }
    ));
    // The last byte is in the stored state: it no longer hashes to the state root.
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let e = with(&flipped);
    assert!(e.to_string().contains("state root"), "{e}");

    std::fs::write(&path, &good).unwrap();
    let other = Chain::new(&dev::genesis(vec![dev::fast_subnet(2, 5)])).unwrap();
    assert!(matches!(
        resume(&path, &other).map(|_| ()).unwrap_err(),
        StateFileError::OtherGenesis { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_saves_when_it_stops_and_resumes_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.state");
    let config = |genesis| NodeConfig {
        state_file: Some(path.clone()),
        port: 0,
        block_time_ms: 10,
        instant: false,
        genesis,
    };
    let node = spawn(config(genesis())).await.unwrap();
    while node.shared().chain().best().header.number < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    drop(node);
    let saved = Chain::new(&genesis()).unwrap();
    let saved = resume(&path, &saved).unwrap();
    let stopped_at = saved.best().header.number;
    assert!(stopped_at >= 5);

    let node = spawn(config(genesis())).await.unwrap();
    assert_eq!(node.shared().chain().best().hash, saved.best().hash);
    while node.shared().chain().best().header.number <= stopped_at {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let next = node
        .shared()
        .chain()
        .block_by_number(stopped_at + 1)
        .unwrap()
        .clone();
    assert_eq!(next.header.parent_hash, saved.best().hash);
    drop(node);

    let other = config(dev::genesis(vec![dev::fast_subnet(3, 5)]));
    assert!(matches!(
        spawn(other).await.unwrap_err(),
        NodeError::StateFile(StateFileError::OtherGenesis { .. })
    ));
}
