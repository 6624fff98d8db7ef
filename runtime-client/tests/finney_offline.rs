//! Every call, storage item and runtime API the client uses, encoded and decoded against the
//! real finney runtime metadata with subxt's offline client. Skips with a message when
//! `../shared/subtensor/finney-metadata.scale` is absent.

use kiln_runtime_client::commitments::{Field, Registration};
use kiln_runtime_client::schema::{self, AxonInfo};
use std::sync::Arc;
use subxt::client::{ClientAtBlock, OfflineClient, OfflineClientAtBlockImpl};
use subxt::config::substrate::SpecVersionForRange;
use subxt::ext::scale_decode::DecodeAsType;
use subxt::ext::scale_value::{At, Value};
use subxt::utils::AccountId32;
use subxt::{Metadata, PolkadotConfig};

const FINNEY: &str = "../../shared/subtensor/finney-metadata.scale";

type Offline = ClientAtBlock<PolkadotConfig, OfflineClientAtBlockImpl<PolkadotConfig>>;

fn finney() -> Option<(Offline, Arc<Metadata>)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FINNEY);
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("SKIPPED: finney metadata not found at {}", path.display());
        return None;
    };
    let metadata = Arc::new(Metadata::decode_from(&bytes).expect("finney metadata decodes"));
    let config = PolkadotConfig::builder()
        .set_metadata_for_spec_versions([(1, metadata.clone())])
        .set_spec_version_for_block_ranges([SpecVersionForRange {
            block_range: 0..u64::MAX,
            spec_version: 1,
            transaction_version: 1,
        }])
        .build();
    let at = OfflineClient::new_with_config(config)
        .at_block(0u64)
        .unwrap();
    Some((at, metadata))
}

/// The type id of `pallet.entry`'s value in the metadata.
fn value_ty(metadata: &Metadata, pallet: &str, entry: &str) -> u32 {
    metadata
        .pallet_by_name(pallet)
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name(entry))
        .unwrap_or_else(|| panic!("{pallet}.{entry} is not in finney's metadata"))
        .value_ty()
}

fn decode<T: DecodeAsType>(metadata: &Metadata, pallet: &str, entry: &str, bytes: &[u8]) -> T {
    let ty = value_ty(metadata, pallet, entry);
    let mut input = bytes;
    let value = T::decode_as_type(&mut input, ty, metadata.types())
        .unwrap_or_else(|e| panic!("{pallet}.{entry}: {e}"));
    assert!(input.is_empty(), "{pallet}.{entry}: bytes left over");
    value
}

#[test]
fn calls_encode_against_finney() {
    let Some((at, _)) = finney() else { return };
    let hotkey = AccountId32([7; 32]);
    let tx = at.transactions();
    let check = |name: &str, data: Result<Vec<u8>, _>| -> Vec<u8> {
        data.unwrap_or_else(|e: subxt::error::ExtrinsicError| panic!("{name}: {e}"))
    };
    let data = check(
        "burned_register",
        tx.call_data(&schema::burned_register(3, hotkey)),
    );
    assert_eq!(
        &data[..4],
        &[7, 7, 3, 0],
        "SubtensorModule(7).burned_register(7), netuid 3"
    );
    check(
        "add_stake",
        tx.call_data(&schema::add_stake(hotkey, 3, 1_000)),
    );
    check(
        "serve_axon",
        tx.call_data(&schema::serve_axon((3, 1, 0x0a00_0001, 8091, 4, 4, 0, 0))),
    );
    let data = check(
        "set_weights",
        tx.call_data(&schema::set_weights(3, vec![0, 1], vec![65535, 1], 7)),
    );
    assert_eq!(&data[..2], &[7, 0]);
    let data = check(
        "commit_weights",
        tx.call_data(&schema::commit_weights(3, [9; 32])),
    );
    assert_eq!(&data[..2], &[7, 96]);
    let data = check(
        "reveal_weights",
        tx.call_data(&schema::reveal_weights((
            3,
            vec![1],
            vec![65535],
            vec![5, 6],
            7,
        ))),
    );
    assert_eq!(&data[..2], &[7, 97]);
    // BoundedVec<u8, 5000>: compact length, then the bytes.
    let data = check(
        "commit_timelocked_weights",
        tx.call_data(&schema::commit_timelocked_weights((
            3,
            vec![0xcd; 70],
            9,
            4,
        ))),
    );
    let mut expected = vec![7, 113, 3, 0];
    expected.extend(codec::Encode::encode(&codec::Compact(70u32)));
    expected.extend_from_slice(&[0xcd; 70]);
    expected.extend_from_slice(&9u64.to_le_bytes());
    expected.extend_from_slice(&4u16.to_le_bytes());
    assert_eq!(
        data, expected,
        "SubtensorModule(7).commit_timelocked_weights(113)"
    );
    check(
        "transfer_keep_alive",
        tx.call_data(&schema::transfer_keep_alive(hotkey, 5)),
    );
    // A commitment field of n raw bytes is tag n + 1 followed by the bytes, no length prefix.
    for len in [1usize, 64, 119, 128] {
        let bytes = vec![0xab; len];
        let data = check(
            "set_commitment",
            tx.call_data(&schema::set_commitment(3, &bytes)),
        );
        let mut expected = vec![18, 0, 3, 0, 1 << 2, len as u8 + 1];
        expected.extend_from_slice(&bytes);
        assert_eq!(data, expected, "Raw{len}");
    }
}

#[test]
fn storage_keys_encode_against_finney() {
    let Some((at, _)) = finney() else { return };
    let storage = at.storage();
    let hk = AccountId32([7; 32]);
    macro_rules! key {
        ($addr:expr, $keys:expr) => {
            storage
                .entry($addr)
                .and_then(|e| e.fetch_key($keys))
                .unwrap_or_else(|e| panic!("{}: {e}", stringify!($addr)))
        };
    }
    for name in schema::U16_VECTORS {
        key!(schema::net_vec::<u16>(name), (3,));
    }
    for name in schema::BOOL_VECTORS {
        key!(schema::net_vec::<bool>(name), (3,));
    }
    for name in schema::U64_VECTORS {
        key!(schema::net_vec::<u64>(name), (3,));
    }
    for name in schema::U16_PARAMS {
        key!(schema::net_u16(name), (3,));
    }
    for name in schema::U64_PARAMS {
        key!(schema::net_u64(name), (3,));
    }
    key!(schema::networks_added(), (3,));
    key!(schema::commit_reveal_enabled(), (3,));
    key!(schema::reveal_period(), (3,));
    key!(schema::commit_reveal_version(), ());
    key!(schema::stake_threshold(), ());
    key!(schema::keys(), (3, 5));
    let uids = key!(schema::uids(), (3, hk));
    // Identity(netuid) ++ Blake2_128Concat(hotkey): the hotkey's bytes end the key.
    assert_eq!(&uids[uids.len() - 32..], &hk.0);
    key!(schema::owner(), (hk,));
    key!(schema::subnet_owner_hotkey(), (3,));
    key!(schema::total_hotkey_alpha(), (hk, 3));
    key!(schema::block_at_registration(), (3, 5));
    key!(schema::axons(), (3, hk));
    key!(schema::weight_commits(), (3, hk));
    key!(schema::commitment_of(), (3, hk));
    key!(schema::timestamp_now(), ());
    key!(schema::system_account(), (hk,));
    // Twox64Concat(netuid) ++ Twox64Concat(epoch): 32 prefix bytes, then 8 + 2 and 8 + 8.
    let tl = key!(
        schema::timelocked_weight_commits(),
        (3, 0x0102_0304_0506_0708)
    );
    assert_eq!(tl.len(), 32 + 10 + 16);
    assert_eq!(&tl[40..42], &3u16.to_le_bytes());
    assert_eq!(&tl[50..], &0x0102_0304_0506_0708u64.to_le_bytes());
    key!(schema::beacon_config(), ());
    key!(schema::last_stored_round(), ());
    // Blake2_128Concat(round).
    let pulse = key!(schema::pulses(), (77,));
    assert_eq!(pulse.len(), 32 + 16 + 8);
    assert_eq!(&pulse[48..], &77u64.to_le_bytes());
}

#[test]
fn storage_values_decode_against_finney() {
    use codec::Encode;
    let Some((_, md)) = finney() else { return };
    let md = &md;
    for name in schema::U16_VECTORS {
        let v: Vec<u16> = decode(md, "SubtensorModule", name, &vec![1u16, 65535].encode());
        assert_eq!(v, [1, 65535]);
    }
    for name in schema::BOOL_VECTORS {
        let v: Vec<bool> = decode(md, "SubtensorModule", name, &vec![true, false].encode());
        assert_eq!(v, [true, false]);
    }
    for name in schema::U64_VECTORS {
        let v: Vec<u64> = decode(md, "SubtensorModule", name, &vec![9u64].encode());
        assert_eq!(v, [9]);
    }
    for name in schema::U16_PARAMS {
        assert_eq!(
            decode::<u16>(md, "SubtensorModule", name, &360u16.encode()),
            360
        );
    }
    for name in schema::U64_PARAMS {
        assert_eq!(
            decode::<u64>(md, "SubtensorModule", name, &100u64.encode()),
            100
        );
    }
    for (name, v) in [
        ("NetworksAdded", true),
        ("CommitRevealWeightsEnabled", false),
    ] {
        assert_eq!(decode::<bool>(md, "SubtensorModule", name, &v.encode()), v);
    }
    assert_eq!(
        decode::<u64>(md, "SubtensorModule", "RevealPeriodEpochs", &1u64.encode()),
        1
    );
    assert_eq!(
        decode::<u16>(
            md,
            "SubtensorModule",
            "CommitRevealWeightsVersion",
            &4u16.encode()
        ),
        4
    );
    assert_eq!(
        decode::<u64>(md, "SubtensorModule", "StakeThreshold", &5u64.encode()),
        5
    );
    for name in ["Keys", "Owner", "SubnetOwnerHotkey"] {
        let v: AccountId32 = decode(md, "SubtensorModule", name, &[3u8; 32]);
        assert_eq!(v, AccountId32([3; 32]));
    }
    assert_eq!(
        decode::<u16>(md, "SubtensorModule", "Uids", &5u16.encode()),
        5
    );
    assert_eq!(
        decode::<u64>(md, "SubtensorModule", "TotalHotkeyAlpha", &7u64.encode()),
        7
    );
    assert_eq!(
        decode::<u64>(md, "SubtensorModule", "BlockAtRegistration", &8u64.encode()),
        8
    );
    assert_eq!(
        decode::<u64>(md, "Timestamp", "Now", &1_700_000_000_000u64.encode()),
        1_700_000_000_000
    );

    let axon = (12u64, 3u32, 0x0a00_0001u128, 8091u16, 4u8, 4u8, 0u8, 0u8).encode();
    let axon: AxonInfo = decode(md, "SubtensorModule", "Axons", &axon);
    assert_eq!(
        (axon.block, axon.ip, axon.port, axon.ip_type),
        (12, 0x0a00_0001, 8091, 4)
    );

    let commits = vec![([1u8; 32], 2u64, 3u64, 0u64)].encode();
    let commits: Vec<schema::WeightCommit> =
        decode(md, "SubtensorModule", "WeightCommits", &commits);
    assert_eq!(
        (commits[0].0.0, commits[0].1, commits[0].2),
        ([1; 32], 2, 3)
    );

    // VecDeque<(AccountId32, u64 commit block, BoundedVec<u8> ciphertext, u64 reveal round)>.
    let entries = vec![([5u8; 32], 11u64, vec![1u8, 2, 3], 4_000_000u64)].encode();
    let entries: Vec<schema::TimelockedEntry> =
        decode(md, "SubtensorModule", "TimelockedWeightCommits", &entries);
    assert_eq!(
        entries,
        [(AccountId32([5; 32]), 11, vec![1, 2, 3], 4_000_000)]
    );
    // BeaconConfiguration { public_key, period, genesis_time, hash, group_hash, scheme_id,
    // metadata { beacon_id } }, bounded vectors throughout.
    let config = (
        vec![9u8; 96],
        3u32,
        1_692_803_367u32,
        vec![1u8; 32],
        vec![2u8; 32],
        b"bls-unchained-g1-rfc9380".to_vec(),
        b"quicknet".to_vec(),
    )
        .encode();
    let config: schema::BeaconConfig = decode(md, "Drand", "BeaconConfig", &config);
    assert_eq!(
        (config.public_key, config.period, config.genesis_time),
        (vec![9; 96], 3, 1_692_803_367)
    );
    assert_eq!(
        decode::<u64>(md, "Drand", "LastStoredRound", &8u64.encode()),
        8
    );
    let pulse = (8u64, vec![3u8; 32], vec![4u8; 48]).encode();
    let pulse: schema::Pulse = decode(md, "Drand", "Pulses", &pulse);
    assert_eq!((pulse.round, pulse.signature), (8, vec![4; 48]));

    // AccountInfo: nonce, consumers, providers, sufficients, data {free, reserved, frozen, flags}.
    let mut account = (1u32, 0u32, 1u32, 0u32, 5_000u64, 0u64, 0u64).encode();
    account.extend_from_slice(&0u128.encode());
    let info: Value = decode(md, "System", "Account", &account);
    let free = info
        .at("data")
        .and_then(|d| d.at("free"))
        .and_then(|v| v.as_u128());
    assert_eq!(free, Some(5_000));
}

#[test]
fn commitment_values_decode_like_finney() {
    let Some((_, md)) = finney() else { return };
    // Registration { deposit, block, info: { fields: [Raw4("kiln"), Sha256([7; 32])] } }
    let mut bytes = 0u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(&77u32.to_le_bytes());
    bytes.push(2 << 2);
    bytes.push(5);
    bytes.extend_from_slice(b"kiln");
    bytes.push(131);
    bytes.extend_from_slice(&[7; 32]);
    let ours = Registration::decode(&bytes).unwrap();
    assert_eq!(ours.block, 77);
    assert_eq!(
        ours.fields,
        [Field::Raw(b"kiln".to_vec()), Field::Sha256([7; 32])]
    );
    // finney's own type reads the same bytes as the same two fields.
    let theirs: Value = decode(&md, "Commitments", "CommitmentOf", &bytes);
    let text = format!("{theirs}");
    assert!(text.contains("Raw4") && text.contains("Sha256"), "{text}");
}

#[test]
fn fee_query_encodes_against_finney() {
    let Some((at, _)) = finney() else { return };
    let args = at
        .runtime_apis()
        .encode_args(schema::query_info(vec![1, 2, 3]))
        .expect("TransactionPaymentApi.query_info(uxt, len)");
    // uxt as a length-prefixed byte sequence, then len: u32.
    assert_eq!(args, [12, 1, 2, 3, 3, 0, 0, 0]);
}

#[test]
fn timelocked_events_decode_against_finney() {
    use codec::{Compact, Encode};
    use kiln_runtime_client::TimelockedEvent;
    use kiln_runtime_client::timelock::reveal::timelocked_events_in;
    let Some((at, md)) = finney() else { return };
    let pallet = md.pallet_by_name("SubtensorModule").unwrap();
    let variant = |name: &str| {
        pallet
            .event_variants()
            .unwrap()
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("SubtensorModule.{name} is not in finney's metadata"))
            .index
    };
    // EventRecord { phase: ApplyExtrinsic(1), event: (pallet, variant, fields), topics: [] }.
    let record = |variant: u8, fields: Vec<u8>| {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&[pallet.event_index(), variant]);
        bytes.extend_from_slice(&fields);
        bytes.push(0);
        bytes
    };
    let mut bytes = Compact(2u32).encode();
    bytes.extend(record(
        variant("TimelockedWeightsCommitted"),
        ([6u8; 32], 3u16, [7u8; 32], 99u64).encode(),
    ));
    bytes.extend(record(
        variant("TimelockedWeightsRevealed"),
        (3u16, [6u8; 32]).encode(),
    ));
    let events = at.events().from_bytes(bytes);
    let got = timelocked_events_in(&events).unwrap();
    assert_eq!(
        got,
        [
            TimelockedEvent::Committed {
                hotkey: AccountId32([6; 32]),
                netuid: 3,
                hash: subxt::utils::H256([7; 32]),
                reveal_round: 99,
            },
            TimelockedEvent::Revealed {
                netuid: 3,
                hotkey: AccountId32([6; 32]),
            },
        ]
    );
}
