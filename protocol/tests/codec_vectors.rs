//! Pinned digests of the codec's output: the bytes for a fixed input must never change without
//! a format version bump. Each input family stresses a different path (ties, zeros, a wide
//! dynamic range, subnormals, huge magnitudes), so a faster implementation that drifts by one
//! bit anywhere fails here.

mod common;

use common::{TestRng, sample_header};
use kiln_protocol::artifact::Artifact;
use kiln_protocol::codec::{ErrorFeedback, Geometry, PeerMean, SparseTensor, TensorSpec};
use kiln_protocol::codec::{aggregate, compress};

/// Input families: each maps (rng, n) to values.
fn family(f: usize, rng: &mut TestRng, n: usize) -> Vec<f32> {
    match f {
        // Plain Gaussian.
        0 => rng.gaussians(n, 1.0),
        // Gaussian with a per-element scale spanning 2^-20..2^20 (a wide dynamic range).
        1 => (0..n)
            .map(|i| rng.gaussian() * 2f32.powi((i % 41) as i32 - 20))
            .collect(),
        // Small integers: many exact ties.
        2 => (0..n).map(|_| rng.below(7) as f32 - 3.0).collect(),
        // Mostly zeros (both signs) with a few values.
        3 => (0..n)
            .map(|i| match rng.below(10) {
                0 => rng.gaussian(),
                1 => -0.0,
                _ if i % 3 == 0 => 0.0,
                _ => -0.0,
            })
            .collect(),
        // Subnormals and normals mixed.
        4 => (0..n)
            .map(|_| {
                let g = rng.gaussian();
                if rng.below(2) == 0 { g * 1e-40 } else { g }
            })
            .collect(),
        // Huge magnitudes next to tiny ones.
        5 => (0..n)
            .map(|_| {
                let g = rng.gaussian();
                match rng.below(3) {
                    0 => g * 1e30,
                    1 => g * 1e-30,
                    _ => g,
                }
            })
            .collect(),
        // One sign only, heavy tail.
        _ => (0..n)
            .map(|_| {
                let g = rng.gaussian().abs();
                g * g * g
            })
            .collect(),
    }
}

const SHAPES: [(&[usize], u32, u32); 9] = [
    (&[256, 192], 64, 64),
    (&[100, 130], 64, 17),
    (&[1000], 64, 64),
    (&[4096, 64], 64, 64),
    (&[3, 5], 64, 64),
    (&[96, 80], 32, 300),
    // Hundreds of chunks whose index bits are not a whole number of bytes.
    (&[120, 126], 6, 5),
    (&[9000], 60, 7),
    // Large enough for the bucketed codebook fit (8192 kept values).
    (&[512, 1024], 64, 64),
];

fn tensors(seed: u64, f: usize) -> Vec<SparseTensor> {
    let mut rng = TestRng(seed);
    SHAPES
        .iter()
        .enumerate()
        .map(|(i, (shape, c, k))| {
            let n = shape.iter().product();
            compress(&format!("t{i}"), shape, &family(f, &mut rng, n), *c, *k).unwrap()
        })
        .collect()
}

fn hex(d: [u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn artifact_digest(tensors: Vec<SparseTensor>) -> String {
    let bytes = Artifact {
        header: sample_header(9),
        tensors,
    }
    .encode()
    .unwrap();
    hex(*blake3::hash(&bytes).as_bytes())
}

fn floats_digest(v: &[Vec<f32>]) -> String {
    let mut h = blake3::Hasher::new();
    for t in v {
        for x in t {
            h.update(&x.to_le_bytes());
        }
    }
    hex(*h.finalize().as_bytes())
}

/// Every family's artifact digest, then its error-feedback and aggregation digests.
fn all_digests() -> Vec<String> {
    let mut out = Vec::new();
    for f in 0..7 {
        out.push(artifact_digest(tensors(100 + f as u64, f)));
    }
    for f in 0..7 {
        let specs: Vec<TensorSpec> = SHAPES
            .iter()
            .enumerate()
            .map(|(i, (shape, c, k))| TensorSpec {
                name: format!("t{i}"),
                geometry: Geometry::for_shape(shape, *c, *k).unwrap(),
            })
            .collect();
        let mut ef = ErrorFeedback::new(specs.clone(), 0.9);
        let mut rng = TestRng(200 + f as u64);
        for _ in 0..3 {
            let deltas: Vec<Vec<f32>> = specs
                .iter()
                .map(|s| family(f, &mut rng, s.geometry.elements() as usize))
                .collect();
            let refs: Vec<&[f32]> = deltas.iter().map(Vec::as_slice).collect();
            out.push(artifact_digest(ef.step(&refs).unwrap()));
        }
        out.push(hex(ef.buffers_hash()));
    }
    for f in 0..7 {
        let peers: Vec<Vec<SparseTensor>> = (0..5)
            .map(|p| tensors(300 + 10 * f as u64 + p, f))
            .collect();
        let specs: Vec<(String, Geometry)> = peers[0]
            .iter()
            .map(|t| (t.name.clone(), t.geometry))
            .collect();
        let refs: Vec<&[SparseTensor]> = peers.iter().map(Vec::as_slice).collect();
        for mean in [PeerMean::Selecting, PeerMean::All] {
            match aggregate(&specs, &refs, mean) {
                Ok(v) => out.push(floats_digest(&v)),
                Err(e) => out.push(format!("error: {e}")),
            }
        }
    }
    out
}

#[test]
fn codec_output_is_pinned() {
    let got = all_digests();
    let expected: Vec<&str> = include_str!("codec_vectors.txt").lines().collect();
    if std::env::var_os("KILN_PRINT_VECTORS").is_some() {
        println!("{}", got.join("\n"));
    }
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "vector {i}");
    }
}

/// The parallel section encoders and decoders agree with each other on many-tensor artifacts:
/// decoding an encoding and encoding it again gives the same bytes.
#[test]
fn random_artifacts_reencode_to_the_same_bytes() {
    for seed in 0..16 {
        let a = common::sample_artifact(seed, 1 + (seed % 5) as usize, 64, 8);
        let bytes = a.encode().unwrap();
        let back =
            Artifact::decode(&bytes, &kiln_protocol::artifact::DecodeOptions::default()).unwrap();
        assert_eq!(back, a, "seed {seed}");
        assert_eq!(back.encode().unwrap(), bytes, "seed {seed}");
    }
}
