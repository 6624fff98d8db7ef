//! Property tests of the SparseLoCo codec and the artifact format.

mod common;

use common::{TestRng, random_shape, sample_header};
use kiln_protocol::artifact::{Artifact, DecodeOptions, Expect, HEADER_LEN};
use kiln_protocol::codec::feedback::{ErrorFeedback, TensorSpec};
use kiln_protocol::codec::{Geometry, PeerMean, SparseTensor, aggregate, aggregate_into, compress};
use proptest::prelude::*;

/// Shape, target chunk side, topk, data seed.
fn case() -> impl Strategy<Value = (Vec<usize>, u32, u32, u64)> {
    (any::<u64>(), 1u32..=64, 1u32..=300, any::<u64>())
        .prop_map(|(s, c, k, d)| (random_shape(&mut TestRng(s)), c, k, d))
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// decode(encode(x)) equals the encoder's own reconstruction bit for bit, and the bytes are
    /// canonical (re-encoding reproduces them).
    #[test]
    fn decode_of_encode_matches_reconstruction(cases in prop::collection::vec(case(), 1..4)) {
        let tensors: Vec<SparseTensor> = cases.iter().enumerate().map(|(i, (shape, c, k, seed))| {
            let n = shape.iter().product();
            compress(&format!("t{i}"), shape, &TestRng(*seed).gaussians(n, 0.01), *c, *k).unwrap()
        }).collect();
        let own: Vec<Vec<f32>> = tensors.iter().map(|t| t.to_dense()).collect();
        let artifact = Artifact { header: sample_header(1), tensors };
        let bytes = artifact.encode().unwrap();
        let decoded = Artifact::decode(&bytes, &DecodeOptions::default()).unwrap();
        prop_assert_eq!(&decoded, &artifact);
        for (t, own) in decoded.tensors.iter().zip(&own) {
            let back = t.to_dense();
            prop_assert_eq!(back.len(), own.len());
            prop_assert!(back.iter().zip(own).all(|(a, b)| a.to_bits() == b.to_bits()));
            // Decoding into a used buffer overwrites every entry.
            let mut reused = vec![f32::NAN; own.len()];
            t.dense_into(&mut reused);
            prop_assert!(reused.iter().zip(own).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        prop_assert_eq!(decoded.encode().unwrap(), bytes);
    }

    /// top-k keeps exactly k per chunk (the whole chunk when it is smaller than k), and the kept
    /// positions are the k largest magnitudes.
    #[test]
    fn topk_keeps_exactly_k_per_chunk((shape, c, k, seed) in case()) {
        let n: usize = shape.iter().product();
        let values = TestRng(seed).gaussians(n, 1.0);
        let t = compress("w", &shape, &values, c, k).unwrap();
        let g = t.geometry;
        let expect_k = (k as usize).min(g.chunk_len());
        prop_assert_eq!(g.k(), expect_k);
        prop_assert_eq!(t.indices.len() as u64, g.chunks() * expect_k as u64);
        for (chunk, idx) in t.indices.chunks(expect_k).enumerate() {
            prop_assert!(idx.windows(2).all(|w| w[0] < w[1]));
            let kept: std::collections::HashSet<usize> = idx.iter().map(|&p| usize::from(p)).collect();
            let min_kept = kept.iter().map(|&p| values[g.flat_index(chunk, p)].abs()).fold(f32::INFINITY, f32::min);
            for p in 0..g.chunk_len() {
                if !kept.contains(&p) {
                    prop_assert!(values[g.flat_index(chunk, p)].abs() <= min_kept);
                }
            }
        }
    }

    /// The error-feedback identity `e_new = decay·e_old + delta − decoded` holds bit for bit.
    #[test]
    fn error_feedback_identity(
        (shape, c, k, seed) in case(), decay in 0.0f32..=1.0, rounds in 1usize..4,
    ) {
        let g = Geometry::for_shape(&shape, c, k).unwrap();
        let mut ef = ErrorFeedback::new(vec![TensorSpec { name: "w".into(), geometry: g }], decay);
        let mut rng = TestRng(seed);
        for _ in 0..rounds {
            let delta = rng.gaussians(g.elements() as usize, 0.1);
            let old = ef.buffer(0).to_vec();
            let msgs = ef.step(&[&delta]).unwrap();
            let decoded = msgs[0].to_dense();
            for i in 0..old.len() {
                let expect = (decay * old[i] + delta[i]) - decoded[i];
                prop_assert_eq!(ef.buffer(0)[i].to_bits(), expect.to_bits(), "element {}", i);
            }
        }
    }

    /// Aggregation equals a naive dense reference implementation bit for bit.
    #[test]
    fn aggregation_matches_naive((shape, c, k, seed) in case(), peers in 1usize..8) {
        let n: usize = shape.iter().product();
        let mut rng = TestRng(seed);
        let msgs: Vec<SparseTensor> = (0..peers)
            .map(|p| compress("w", &shape, &rng.gaussians(n, 0.01 * (1 + p) as f32), c, k).unwrap())
            .collect();
        let g = msgs[0].geometry;
        let lists: Vec<&[SparseTensor]> = msgs.iter().map(std::slice::from_ref).collect();
        let mut reused = vec![vec![f32::NAN; 3]];
        for mean in [PeerMean::All, PeerMean::Selecting] {
            let fast = aggregate(&[("w".to_owned(), g)], &lists, mean).unwrap().remove(0);
            let want = naive_aggregate(&msgs, mean);
            prop_assert_eq!(&fast, &want);
            // Into a used buffer (the wrong length first, then the right one with stale data).
            aggregate_into(&[("w".to_owned(), g)], &lists, mean, &mut reused).unwrap();
            prop_assert_eq!(&reused[0], &want);
        }
    }

    /// The encoded size equals the documented formula.
    #[test]
    fn encoded_size_matches_formula(cases in prop::collection::vec(case(), 1..4)) {
        let tensors: Vec<SparseTensor> = cases.iter().enumerate().map(|(i, (shape, c, k, seed))| {
            let n = shape.iter().product();
            compress(&format!("model.layers.{i}.w"), shape, &TestRng(*seed).gaussians(n, 1.0), *c, *k).unwrap()
        }).collect();
        let formula: u64 = HEADER_LEN + tensors.iter().map(|t| {
            let g = t.geometry;
            let (u, k, chunks) = (g.chunk_len() as u64, g.k() as u64, g.chunks());
            let ef_bits = if k == u { 0 } else {
                let l = u64::from((u / k).ilog2());
                k * l + k + ((u - 1) >> l) + 1
            };
            2 + t.name.len() as u64 + 1 + 5 * g.rank() as u64 + 2 + 1 + 4 * t.codebook.len() as u64
                + (chunks * ef_bits).div_ceil(8) + (chunks * k * 2).div_ceil(8)
        }).sum::<u64>();
        let artifact = Artifact { header: sample_header(2), tensors };
        prop_assert_eq!(artifact.encode().unwrap().len() as u64, formula);
        prop_assert_eq!(artifact.encoded_len(), formula);
    }
}

/// Dense reference: decode each peer, clip to the lower-median norm, sum each coordinate over
/// the peers that selected it and divide by the rule's count.
fn naive_aggregate(msgs: &[SparseTensor], mean: PeerMean) -> Vec<f32> {
    let g = msgs[0].geometry;
    let n = g.elements() as usize;
    let norms: Vec<f64> = msgs
        .iter()
        .map(|m| {
            m.codes
                .iter()
                .map(|&c| f64::from(m.codebook.value(c)).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let mut sorted = norms.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[(sorted.len() - 1) / 2];
    let mut sum = vec![0f32; n];
    let mut count = vec![0u32; n];
    for (m, &norm) in msgs.iter().zip(&norms) {
        let scale = if norm > median { median / norm } else { 1.0 };
        let mut selected = vec![false; n];
        let mut dense = vec![0f32; n];
        for (j, (&p, &c)) in m.indices.iter().zip(&m.codes).enumerate() {
            let flat = g.flat_index(j / g.k(), usize::from(p));
            selected[flat] = true;
            dense[flat] = (f64::from(m.codebook.value(c)) * scale) as f32;
        }
        for i in 0..n {
            if selected[i] {
                sum[i] += dense[i];
                count[i] += 1;
            }
        }
    }
    sum.iter()
        .zip(&count)
        .map(|(&s, &c)| match mean {
            PeerMean::All if msgs.len() > 1 => s / msgs.len() as f32,
            PeerMean::Selecting if c > 1 => s / c as f32,
            _ => s,
        })
        .collect()
}

#[test]
fn expected_geometry_is_enforced() {
    let artifact = common::sample_artifact(5, 3, 64, 64);
    let bytes = artifact.encode().unwrap();
    let ok = DecodeOptions {
        expect: Some(Expect {
            chunk: 64,
            topk: 64,
        }),
        ..DecodeOptions::default()
    };
    assert!(Artifact::decode(&bytes, &ok).is_ok());
    let other = DecodeOptions {
        expect: Some(Expect {
            chunk: 32,
            topk: 64,
        }),
        ..DecodeOptions::default()
    };
    assert!(matches!(
        Artifact::decode(&bytes, &other),
        Err(kiln_protocol::DecodeError::UnexpectedGeometry(_))
    ));
}
