//! Hostile input: every corruption class has its own error, and 100k random mutations of
//! valid artifacts and commitments never panic.

mod common;

use common::{TestRng, sample_artifact};
use kiln_protocol::artifact::{Artifact, DecodeError, DecodeOptions, HEADER_LEN};
use kiln_protocol::codec::{Geometry, SparseTensor, compress};
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::{ArtifactHeader, Codebook};

fn decode(bytes: &[u8]) -> Result<Artifact, DecodeError> {
    Artifact::decode(bytes, &DecodeOptions::default())
}

/// One 1-D tensor "w" of 100 elements, chunk 50, k = 3: every field at a known offset.
fn one_tensor() -> (Artifact, Vec<u8>) {
    let values: Vec<f32> = (0..100)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 10.0)
        .collect();
    let t = compress("w", &[100], &values, 50, 3).unwrap();
    assert_eq!((t.geometry.chunk_len(), t.geometry.k()), (50, 3));
    let a = Artifact {
        header: common::sample_header(0),
        tensors: vec![t],
    };
    let bytes = a.encode().unwrap();
    (a, bytes)
}

const H: usize = HEADER_LEN as usize;
// Offsets inside the single tensor section.
const NAME_LEN: usize = H;
const RANK: usize = H + 3;
const DIM: usize = H + 4;
const SIDE: usize = H + 8;
const K: usize = H + 9;
const CB_LEN: usize = H + 11;
const CB: usize = H + 12;

fn cb_end(bytes: &[u8]) -> usize {
    CB + 4 * usize::from(bytes[CB_LEN])
}

#[test]
fn each_corruption_class_has_its_own_error() {
    let (a, good) = one_tensor();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = good.clone();
        f(&mut v);
        decode(&v)
    };
    assert_eq!(decode(&good).unwrap(), a);

    // Total size limit.
    let small = DecodeOptions {
        max_len: good.len() - 1,
        ..DecodeOptions::default()
    };
    assert!(matches!(
        Artifact::decode(&good, &small),
        Err(DecodeError::TooLarge { .. })
    ));
    // Magic, version, flags.
    assert_eq!(with(&|v| v[0] = b'X'), Err(DecodeError::BadMagic));
    assert_eq!(with(&|v| v[8] = 2), Err(DecodeError::UnsupportedVersion(2)));
    assert_eq!(with(&|v| v[10] = 1), Err(DecodeError::UnknownFlags(1)));
    // Lengths: header truncation, no tensors, trailing bytes, sections past the end.
    assert!(matches!(
        decode(&good[..40]),
        Err(DecodeError::Truncated { .. })
    ));
    assert_eq!(
        with(&|v| v[H - 4..H].copy_from_slice(&0u32.to_le_bytes())),
        Err(DecodeError::NoTensors)
    );
    assert_eq!(with(&|v| v.push(0)), Err(DecodeError::TrailingBytes(1)));
    assert!(matches!(
        decode(&good[..good.len() - 1]),
        Err(DecodeError::SectionTruncated { .. })
    ));
    assert!(matches!(
        with(&|v| v[H - 4] = 2),
        Err(DecodeError::Truncated { .. })
    ));
    // Names.
    assert_eq!(
        with(&|v| v[NAME_LEN + 2] = b' '),
        Err(DecodeError::InvalidName { index: 0 })
    );
    // Shapes vs declared sizes.
    assert!(matches!(
        with(&|v| v[RANK] = 3),
        Err(DecodeError::Geometry { .. })
    ));
    assert!(
        matches!(with(&|v| v[DIM] = 99), Err(DecodeError::Geometry { .. })),
        "50 does not divide 99"
    );
    assert!(matches!(
        with(&|v| v[SIDE] = 65),
        Err(DecodeError::Geometry { .. })
    ));
    assert!(matches!(
        with(&|v| v[K..K + 2].copy_from_slice(&51u16.to_le_bytes())),
        Err(DecodeError::Geometry { .. })
    ));
    // Codebook.
    assert!(matches!(
        with(&|v| v[CB_LEN] = 5),
        Err(DecodeError::CodebookLength { len: 5, .. })
    ));
    assert!(matches!(
        with(&|v| v[CB..CB + 4].copy_from_slice(&f32::NAN.to_le_bytes())),
        Err(DecodeError::NonFiniteCodebook(_))
    ));
    assert!(matches!(
        with(&|v| v[CB..CB + 4].copy_from_slice(&f32::MAX.to_le_bytes())),
        Err(DecodeError::CodebookNotIncreasing(_))
    ));
}

/// Index-section corruptions, built from explicit index sets so each class is hit exactly.
#[test]
fn index_and_code_corruptions() {
    let (_, good) = one_tensor();
    let idx_at = cb_end(&good);
    // chunk_len 50, k 3: l = 4, 4 buckets, 3·4 + 3 + 4 = 19 bits per chunk, 2 chunks -> 5 bytes.
    let idx_len = 5;
    let push =
        |bits: &mut Vec<u8>, v: u32, n: u32| (0..n).for_each(|i| bits.push(((v >> i) & 1) as u8));
    let section = |chunks: &[(&[u32; 3], &[u8])]| {
        let mut b = Vec::new();
        for (lows, unary) in chunks {
            for &l in *lows {
                push(&mut b, l, 4);
            }
            b.extend_from_slice(unary);
        }
        let mut out = vec![0u8; idx_len];
        for (i, &bit) in b.iter().enumerate() {
            out[i / 8] |= bit << (i % 8);
        }
        out
    };
    let valid_chunk: (&[u32; 3], &[u8]) = (&[1, 2, 3], &[1, 1, 1, 0, 0, 0, 0]);
    let with_section = |s: Vec<u8>| {
        let mut v = good.clone();
        v[idx_at..idx_at + idx_len].copy_from_slice(&s);
        decode(&v)
    };
    assert!(with_section(section(&[valid_chunk, valid_chunk])).is_ok());
    // Index out of range: bucket 3, low 15 -> 63 >= 50.
    assert!(matches!(
        with_section(section(&[
            valid_chunk,
            (&[1, 2, 15], &[1, 1, 0, 0, 0, 1, 0])
        ])),
        Err(DecodeError::IndexOutOfRange {
            chunk: 1,
            index: 63,
            ..
        })
    ));
    // Duplicate index.
    assert!(matches!(
        with_section(section(&[
            (&[4, 4, 5], &[1, 1, 1, 0, 0, 0, 0]),
            valid_chunk
        ])),
        Err(DecodeError::DuplicateIndex {
            chunk: 0,
            index: 4,
            ..
        })
    ));
    // Unsorted indices.
    assert!(matches!(
        with_section(section(&[
            (&[5, 4, 6], &[1, 1, 1, 0, 0, 0, 0]),
            valid_chunk
        ])),
        Err(DecodeError::UnsortedIndices { chunk: 0, .. })
    ));
    // Wrong count of ones in the unary stream.
    assert!(matches!(
        with_section(section(&[
            (&[1, 2, 3], &[1, 1, 0, 0, 0, 0, 1]),
            valid_chunk
        ])),
        Err(DecodeError::IndexCountMismatch { chunk: 0, .. })
    ));
    // Non-zero padding after the index bits (2·19 = 38 bits used of 40).
    let mut s = section(&[valid_chunk, valid_chunk]);
    s[4] |= 0x80;
    assert!(matches!(
        with_section(s),
        Err(DecodeError::NonZeroPadding {
            section: "index",
            ..
        })
    ));

    // Codes: 6 values -> 2 bytes, 4 padding bits. A code >= codebook length needs a short codebook.
    let values = [-5.0f32, 0.0, 5.0, 0.0, -5.0, 0.0, 5.0, 0.0];
    let t = compress("v", &[8], &values, 64, 64).unwrap();
    assert_eq!(t.codebook.len(), 3);
    let art = Artifact {
        header: common::sample_header(0),
        tensors: vec![t],
    };
    let ok = art.encode().unwrap();
    let val_at = ok.len() - 2;
    let mut bad = ok.clone();
    bad[val_at] |= 0b11;
    assert!(matches!(
        decode(&bad),
        Err(DecodeError::CodeOutOfRange {
            code: 3,
            codebook_len: 3,
            ..
        })
    ));
    let mut t1 = art.clone();
    t1.tensors[0] = compress("v", &[6], &values[..6], 64, 64).unwrap();
    let ok = t1.encode().unwrap();
    let mut bad = ok.clone();
    *bad.last_mut().unwrap() |= 0b0100_0000;
    assert!(matches!(
        decode(&bad),
        Err(DecodeError::NonZeroPadding {
            section: "value",
            ..
        })
    ));
}

#[test]
fn duplicate_names_are_rejected() {
    let t = compress("same", &[4], &[1.0, 2.0, 3.0, 4.0], 64, 64).unwrap();
    let a = Artifact {
        header: common::sample_header(0),
        tensors: vec![t.clone(), t],
    };
    assert!(a.encode().is_err());
    // Build the bytes by hand: encode two different names, then rename the second.
    let mut b = a.clone();
    b.tensors[1].name = "samf".into();
    let mut bytes = b.encode().unwrap();
    let second = bytes.len() - (bytes.len() - H) / 2;
    assert_eq!(&bytes[second + 2..second + 6], b"samf");
    bytes[second + 5] = b'e';
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::DuplicateName("same".into()))
    );
}

#[test]
fn huge_declared_sizes_do_not_allocate() {
    // A tensor declaring 2^40 elements with k = chunk must be rejected before any allocation.
    let g = Geometry::from_parts(&[1 << 20, 1 << 20], &[64, 64], 4096).unwrap();
    let t = SparseTensor {
        name: "huge".into(),
        geometry: g,
        indices: vec![],
        codes: vec![],
        codebook: Codebook::new(&[0.0]).unwrap(),
    };
    let header = ArtifactHeader {
        netuid: 0,
        uid: 0,
        hotkey: [0; 32],
        window: 0,
        base_model_hash: [0; 32],
        hparams_hash: [0; 32],
    };
    let a = Artifact {
        header,
        tensors: vec![t],
    };
    assert!(
        a.encode().is_err(),
        "the encoder refuses inconsistent counts"
    );
    let mut bytes = common::sample_artifact(1, 1, 64, 64).encode().unwrap();
    bytes.truncate(H);
    bytes.extend_from_slice(&4u16.to_le_bytes());
    bytes.extend_from_slice(b"huge");
    bytes.push(2);
    bytes.extend_from_slice(&(1u32 << 20).to_le_bytes());
    bytes.extend_from_slice(&(1u32 << 20).to_le_bytes());
    bytes.extend_from_slice(&[64, 64]);
    bytes.extend_from_slice(&4096u16.to_le_bytes());
    bytes.push(1);
    bytes.extend_from_slice(&0f32.to_le_bytes());
    bytes[H - 4..H].copy_from_slice(&1u32.to_le_bytes());
    assert!(
        matches!(decode(&bytes), Err(DecodeError::SectionTruncated { needed, .. }) if needed == (1u64 << 40) / 4)
    );
    // A huge tensor count with no sections is a plain truncation.
    let mut bytes = common::sample_artifact(1, 1, 64, 64).encode().unwrap();
    bytes[H - 4..H].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(decode(&bytes), Err(DecodeError::Truncated { .. })));
}

/// Applies one random mutation: bit flip, byte overwrite, truncation, extension, insertion or
/// deletion.
fn mutate(rng: &mut TestRng, bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let pos = |rng: &mut TestRng, len: usize| rng.below(len.max(1) as u64) as usize;
    match rng.below(6) {
        0 => {
            for _ in 0..=rng.below(3) {
                let p = pos(rng, v.len());
                v[p] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let p = pos(rng, v.len());
            v[p] = rng.next_u64() as u8;
        }
        2 => v.truncate(pos(rng, v.len())),
        3 => (0..=rng.below(16)).for_each(|_| v.push(rng.next_u64() as u8)),
        4 => {
            let p = pos(rng, v.len());
            v.insert(p, rng.next_u64() as u8);
        }
        _ => {
            let p = pos(rng, v.len());
            v.remove(p);
        }
    }
    v
}

#[test]
fn hundred_thousand_artifact_mutations_never_panic() {
    let seeds: Vec<Vec<u8>> = (0..8)
        .map(|s| {
            sample_artifact(s, 1 + s as usize % 3, 16, 8)
                .encode()
                .unwrap()
        })
        .collect();
    let mut rng = TestRng(0xC0FFEE);
    let (mut ok, mut rejected) = (0u32, 0u32);
    for i in 0..100_000 {
        let bytes = mutate(&mut rng, &seeds[i % seeds.len()]);
        match decode(&bytes) {
            // Anything accepted must be canonical: it re-encodes to exactly the same bytes.
            Ok(a) => {
                assert_eq!(
                    a.encode().unwrap(),
                    bytes,
                    "accepted bytes are not canonical"
                );
                ok += 1;
            }
            Err(_) => rejected += 1,
        }
    }
    assert_eq!(ok + rejected, 100_000);
    assert!(
        rejected > 50_000,
        "most mutations must be rejected (rejected {rejected})"
    );
}

#[test]
fn hundred_thousand_commitment_mutations_never_panic() {
    let good = Commitment {
        kind: CommitmentKind::Artifact,
        window: 77,
        digest: [5; 32],
        byte_len: 1234,
        locator: "gw:default".into(),
    }
    .encode()
    .unwrap();
    let mut rng = TestRng(0xBADC0DE);
    let mut rejected = 0u32;
    for _ in 0..100_000 {
        let bytes = mutate(&mut rng, &good);
        match Commitment::parse(&bytes) {
            Ok(c) => assert_eq!(c.encode().unwrap(), bytes),
            Err(_) => rejected += 1,
        }
    }
    assert!(rejected > 20_000, "rejected {rejected}");
    // Pure garbage of every length up to the limit is rejected.
    for len in 0..=140 {
        let garbage: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        assert!(Commitment::parse(&garbage).is_err());
    }
}

#[test]
fn hundred_thousand_registration_mutations_never_panic() {
    use kiln_protocol::registration::{Field, Registration};
    let seeds: Vec<Vec<u8>> = vec![
        Registration {
            deposit: 0,
            block: 9,
            fields: vec![Field::Raw(b"kiln".to_vec()), Field::Sha256([1; 32])],
        }
        .encode(),
        Registration {
            deposit: 3,
            block: 1,
            fields: vec![
                Field::TimelockEncrypted {
                    encrypted: vec![7; 70],
                    reveal_round: 4,
                },
                Field::BigRaw(vec![2; 20]),
                Field::ResetBondsFlag,
            ],
        }
        .encode(),
    ];
    let mut rng = TestRng(0x5EED);
    let mut rejected = 0u32;
    for i in 0..100_000 {
        let bytes = mutate(&mut rng, &seeds[i % seeds.len()]);
        match Registration::decode(&bytes) {
            Ok(r) => assert_eq!(r.encode(), bytes, "accepted bytes are not canonical"),
            Err(_) => rejected += 1,
        }
    }
    assert!(rejected > 20_000, "rejected {rejected}");
}

#[test]
fn hundred_thousand_aggregation_manifest_mutations_never_panic() {
    use kiln_protocol::aggregation::{AggregationManifest, Peer};
    let manifest = |peers: u16| AggregationManifest {
        netuid: 2,
        window: 40,
        hparams_hash: [5; 32],
        base_model_hash: [6; 32],
        result_model_hash: if peers == 0 { [6; 32] } else { [7; 32] },
        prev_manifest: [8; 32],
        checkpoint: [9; 32],
        peers: (0..peers)
            .map(|i| Peer {
                uid: i * 2,
                digest: [i as u8; 32],
            })
            .collect(),
    };
    let seeds = [manifest(0), manifest(1), manifest(5)].map(|m| m.encode().unwrap());
    let mut rng = TestRng(0xA66);
    let mut rejected = 0u32;
    for i in 0..100_000 {
        let bytes = mutate(&mut rng, &seeds[i % seeds.len()]);
        match AggregationManifest::decode(&bytes) {
            Ok(m) => assert_eq!(
                m.encode().unwrap(),
                bytes,
                "accepted bytes are not canonical"
            ),
            Err(_) => rejected += 1,
        }
    }
    assert!(rejected > 20_000, "rejected {rejected}");
}

#[test]
fn the_committed_aggregation_fuzz_seed_is_a_valid_manifest() {
    use kiln_protocol::aggregation::AggregationManifest;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/seeds/aggregation_decode/two-peers"
    );
    let bytes = std::fs::read(path).unwrap();
    let m = AggregationManifest::decode(&bytes).unwrap();
    assert_eq!(m.peers.len(), 2);
    assert_eq!(m.checkpoint(), Some([4; 32]));
    assert_eq!(m.encode().unwrap(), bytes);
}
