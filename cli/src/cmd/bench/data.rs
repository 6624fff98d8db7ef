//! Synthetic pseudo-gradients shaped like a LLaMA-style transformer.

use rayon::prelude::*;

/// A named tensor shape.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
}

impl Spec {
    fn new(name: impl Into<String>, shape: &[usize]) -> Self {
        Self {
            name: name.into(),
            shape: shape.to_vec(),
        }
    }
    pub(crate) fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The "s17m" set: 17,042,432 elements, one LLaMA layer at width 1024 with a 4096-token tied
/// embedding, HF names. The same set Templar's codec was measured on, so figures compare.
pub(crate) fn s17m() -> Vec<Spec> {
    let mut v = vec![Spec::new("model.embed_tokens.weight", &[4096, 1024])];
    v.extend(layer(0, 1024, 2816));
    v.push(Spec::new("model.norm.weight", &[1024]));
    v
}

fn layer(i: usize, d: usize, ffn: usize) -> Vec<Spec> {
    let p = format!("model.layers.{i}");
    vec![
        Spec::new(format!("{p}.self_attn.q_proj.weight"), &[d, d]),
        Spec::new(format!("{p}.self_attn.k_proj.weight"), &[d, d]),
        Spec::new(format!("{p}.self_attn.v_proj.weight"), &[d, d]),
        Spec::new(format!("{p}.self_attn.o_proj.weight"), &[d, d]),
        Spec::new(format!("{p}.mlp.gate_proj.weight"), &[ffn, d]),
        Spec::new(format!("{p}.mlp.up_proj.weight"), &[ffn, d]),
        Spec::new(format!("{p}.mlp.down_proj.weight"), &[d, ffn]),
        Spec::new(format!("{p}.input_layernorm.weight"), &[d]),
        Spec::new(format!("{p}.post_attention_layernorm.weight"), &[d]),
    ]
}

/// A small set for smoke tests: one layer at width 128 with a 512-token embedding.
pub(crate) fn tiny() -> Vec<Spec> {
    let mut v = vec![Spec::new("model.embed_tokens.weight", &[512, 128])];
    v.extend(layer(0, 128, 384));
    v.push(Spec::new("model.norm.weight", &[128]));
    v
}

/// A LLaMA-shaped set of about `elements` elements: width 1024, FFN 2816, a 4096-token
/// embedding, and as many layers as fit (at least one).
pub(crate) fn llama(elements: usize) -> Vec<Spec> {
    let (d, ffn) = (1024, 2816);
    let per_layer: usize = layer(0, d, ffn).iter().map(Spec::elements).sum();
    let fixed = 4096 * d + d;
    let layers = (elements.saturating_sub(fixed) / per_layer).max(1);
    let mut v = vec![Spec::new("model.embed_tokens.weight", &[4096, d])];
    for i in 0..layers {
        v.extend(layer(i, d, ffn));
    }
    v.push(Spec::new("model.norm.weight", &[d]));
    v
}

/// Deterministic N(0, scale²) values for one tensor, generated in parallel blocks.
pub(crate) fn gaussians(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    const BLOCK: usize = 1 << 16;
    let mut out = vec![0f32; n];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(b, chunk)| {
            let mut s = seed ^ (b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut next = || {
                s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
            };
            for pair in chunk.chunks_mut(2) {
                let (u1, u2) = (next().max(1e-300), next());
                let r = (-2.0 * u1.ln()).sqrt();
                let t = 2.0 * std::f64::consts::PI * u2;
                pair[0] = (r * t.cos()) as f32 * scale;
                if let Some(x) = pair.get_mut(1) {
                    *x = (r * t.sin()) as f32 * scale;
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s17m_matches_the_reference_set() {
        let set = s17m();
        assert_eq!(set.iter().map(Spec::elements).sum::<usize>(), 17_042_432);
        assert_eq!(set.len(), 11);
    }

    #[test]
    fn llama_scales_with_elements() {
        let small: usize = llama(0).iter().map(Spec::elements).sum();
        let big: usize = llama(100_000_000).iter().map(Spec::elements).sum();
        assert_eq!(small, 17_042_432);
        assert!(
            big <= 100_000_000 && big > 100_000_000 - 13_000_000,
            "{big}"
        );
    }

    #[test]
    fn gaussians_are_deterministic_and_standard() {
        let a = gaussians(7, 200_001, 1.0);
        assert_eq!(a, gaussians(7, 200_001, 1.0));
        let mean = a.iter().map(|&x| f64::from(x)).sum::<f64>() / a.len() as f64;
        let var = a
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "mean {mean} var {var}"
        );
    }
}
