//! Shared helpers for the protocol's integration tests.

use kiln_protocol::artifact::{Artifact, ArtifactHeader};
use kiln_protocol::codec::{SparseTensor, compress};

/// SplitMix64: a tiny deterministic generator for test data.
pub(crate) struct TestRng(pub(crate) u64);

impl TestRng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal via Box–Muller.
    pub(crate) fn gaussian(&mut self) -> f32 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
    }
    pub(crate) fn gaussians(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.gaussian() * scale).collect()
    }
}

/// A random 1-D or 2-D shape of modest size.
pub(crate) fn random_shape(rng: &mut TestRng) -> Vec<usize> {
    if rng.below(3) == 0 {
        vec![1 + rng.below(300) as usize]
    } else {
        vec![1 + rng.below(130) as usize, 1 + rng.below(130) as usize]
    }
}

/// A small but valid artifact of `tensors` random tensors.
pub(crate) fn sample_artifact(seed: u64, tensors: usize, chunk: u32, topk: u32) -> Artifact {
    let mut rng = TestRng(seed);
    let tensors: Vec<SparseTensor> = (0..tensors)
        .map(|i| {
            let shape = random_shape(&mut rng);
            let n: usize = shape.iter().product();
            let values = rng.gaussians(n, 1e-3);
            compress(&format!("layers.{i}.weight"), &shape, &values, chunk, topk).unwrap()
        })
        .collect();
    Artifact {
        header: sample_header(seed),
        tensors,
    }
}

pub(crate) fn sample_header(seed: u64) -> ArtifactHeader {
    ArtifactHeader {
        netuid: 3,
        uid: (seed % 256) as u16,
        hotkey: [0x11; 32],
        window: 1000 + seed,
        base_model_hash: [0x22; 32],
        hparams_hash: [0x33; 32],
    }
}
