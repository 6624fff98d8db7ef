//! The LLaMA-style decoder: RMSNorm, rotary embeddings, grouped-query attention, SwiGLU MLP,
//! tied or untied output head. Parameters are candle `Var`s named as Hugging Face names them.

use crate::config::{ConfigError, ModelConfig};
use crate::device::Precision;
use candle_core::{D, DType, Device, Tensor, Var};
use kiln_protocol::Geometry;
use kiln_protocol::codec::{GeometryError, TensorSpec};
use kiln_protocol::rng::StreamRng;
use std::collections::HashMap;
use thiserror::Error;

const INIT_CONTEXT: &str = "kiln model init v1";
const STATE_CONTEXT: &str = "kiln model state v1";

/// Why a model operation failed.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The config is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The tensor backend failed.
    #[error("tensor backend: {0}")]
    Candle(#[from] candle_core::Error),
    /// No parameter has that name.
    #[error("no parameter named {0:?}")]
    UnknownParameter(String),
    /// Values of the wrong length or shape for a parameter.
    #[error("parameter {name:?} has {expected} elements, got {got}")]
    Length {
        /// The parameter.
        name: String,
        /// Its element count.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// A token id is not in the vocabulary.
    #[error("token {token} is outside the vocabulary of {vocab}")]
    Token {
        /// The token.
        token: u32,
        /// Vocabulary size.
        vocab: usize,
    },
    /// Rows are empty, ragged, or longer than the rotary tables.
    #[error("{0}")]
    Batch(String),
}

/// Indices of one layer's parameters in the canonical order.
#[derive(Debug, Clone, Copy)]
struct Layer {
    ln1: usize,
    q: usize,
    k: usize,
    v: usize,
    o: usize,
    ln2: usize,
    gate: usize,
    up: usize,
    down: usize,
}

/// A LLaMA-style decoder with `f32` master parameters on one device.
#[derive(Debug)]
pub struct Model {
    config: ModelConfig,
    device: Device,
    precision: Precision,
    params: Vec<(String, Var)>,
    index: HashMap<String, usize>,
    layers: Vec<Layer>,
    norm: usize,
    head: usize,
    cos: Tensor,
    sin: Tensor,
}

impl Model {
    /// A freshly initialized model: every matrix drawn from `N(0, initializer_range²)` and every
    /// norm weight 1. The draw for parameter `name` is the [`StreamRng`] keyed by
    /// `blake3::derive_key("kiln model init v1", seed u64 LE ‖ name)`, one Box–Muller normal per
    /// element in row-major order, so the same seed gives the same model on every machine.
    pub fn init(config: &ModelConfig, seed: u64, device: &Device) -> Result<Self, ModelError> {
        config.validate()?;
        let std = config.initializer_range;
        let tensors = config
            .parameter_shapes()
            .into_iter()
            .map(|(name, shape)| {
                let n: usize = shape.iter().product();
                let values: Vec<f32> = if name.ends_with("norm.weight") {
                    vec![1.0; n]
                } else {
                    let mut material = seed.to_le_bytes().to_vec();
                    material.extend_from_slice(name.as_bytes());
                    let mut rng = StreamRng::new(&blake3::derive_key(INIT_CONTEXT, &material));
                    (0..n).map(|_| (rng.normal() * std) as f32).collect()
                };
                Ok((name, Tensor::from_vec(values, shape, device)?))
            })
            .collect::<Result<Vec<_>, candle_core::Error>>()?;
        Self::from_tensors(config, tensors, device)
    }

    /// Builds a model from named tensors in [`ModelConfig::parameter_shapes`] order (shapes
    /// already checked by the caller); values are converted to `f32` on `device`.
    pub(crate) fn from_tensors(
        config: &ModelConfig,
        tensors: Vec<(String, Tensor)>,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let params = tensors
            .into_iter()
            .map(|(n, t)| {
                let t = t.to_device(device)?.to_dtype(DType::F32)?;
                Ok((n, Var::from_tensor(&t)?))
            })
            .collect::<Result<Vec<_>, candle_core::Error>>()?;
        let index = params
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
        let layers = (0..config.num_hidden_layers)
            .map(|l| {
                let b = 1 + 9 * l;
                Layer {
                    ln1: b,
                    q: b + 1,
                    k: b + 2,
                    v: b + 3,
                    o: b + 4,
                    ln2: b + 5,
                    gate: b + 6,
                    up: b + 7,
                    down: b + 8,
                }
            })
            .collect();
        let norm = 1 + 9 * config.num_hidden_layers;
        let head = if config.tie_word_embeddings {
            0
        } else {
            norm + 1
        };
        let (cos, sin) = rope_tables(config, device)?;
        Ok(Self {
            config: config.clone(),
            device: device.clone(),
            precision: Precision::F32,
            params,
            index,
            layers,
            norm,
            head,
            cos,
            sin,
        })
    }

    /// The architecture.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Sets the arithmetic of the matrix products (parameters stay `f32`).
    pub fn set_precision(&mut self, precision: Precision) {
        self.precision = precision;
    }

    /// The arithmetic of the matrix products.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Parameters by Hugging Face name, in canonical order.
    pub fn params(&self) -> &[(String, Var)] {
        &self.params
    }

    /// The codec geometry of every parameter, in parameter order, for
    /// [`ErrorFeedback`](kiln_protocol::codec::ErrorFeedback).
    pub fn codec_specs(&self, chunk: u32, topk: u32) -> Result<Vec<TensorSpec>, GeometryError> {
        self.params
            .iter()
            .map(|(name, var)| {
                Ok(TensorSpec {
                    name: name.clone(),
                    geometry: Geometry::for_shape(var.dims(), chunk, topk)?,
                })
            })
            .collect()
    }

    /// One parameter by name.
    pub fn param(&self, name: &str) -> Result<&Var, ModelError> {
        self.index
            .get(name)
            .map(|&i| &self.params[i].1)
            .ok_or_else(|| ModelError::UnknownParameter(name.into()))
    }

    /// A parameter's values as a flat row-major `f32` vector (copied to the host).
    pub fn flat(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        Ok(self.param(name)?.as_tensor().flatten_all()?.to_vec1()?)
    }

    /// Overwrites a parameter from flat row-major values.
    pub fn set_flat(&self, name: &str, values: &[f32]) -> Result<(), ModelError> {
        let var = self.param(name)?;
        let expected = var.elem_count();
        if values.len() != expected {
            return Err(ModelError::Length {
                name: name.into(),
                expected,
                got: values.len(),
            });
        }
        let t = Tensor::from_slice(values, var.shape(), &self.device)?;
        Ok(var.set(&t)?)
    }

    /// Deep copies of every parameter, for an exact [`restore`](Self::restore).
    pub fn snapshot(&self) -> Result<Vec<Tensor>, ModelError> {
        Ok(self
            .params
            .iter()
            .map(|(_, v)| v.as_tensor().copy())
            .collect::<Result<_, _>>()?)
    }

    /// Writes a [`snapshot`](Self::snapshot) back, bit for bit.
    pub fn restore(&self, snapshot: &[Tensor]) -> Result<(), ModelError> {
        if snapshot.len() != self.params.len() {
            return Err(ModelError::Batch(format!(
                "snapshot has {} tensors, the model {}",
                snapshot.len(),
                self.params.len()
            )));
        }
        for ((_, var), t) in self.params.iter().zip(snapshot) {
            var.set(t)?;
        }
        Ok(())
    }

    /// The base-model hash: blake3 keyed by `derive_key("kiln model state v1", "")` over every
    /// parameter in byte-wise name order, each as `name length u32 LE ‖ name ‖ rank u32 LE ‖ dims
    /// u64 LE ‖ values f32 LE`. Independent of device and of how the model was built.
    pub fn state_hash(&self) -> Result<[u8; 32], ModelError> {
        let mut order: Vec<usize> = (0..self.params.len()).collect();
        order.sort_by(|&a, &b| self.params[a].0.cmp(&self.params[b].0));
        let mut h = blake3::Hasher::new_keyed(&blake3::derive_key(STATE_CONTEXT, b""));
        for i in order {
            let (name, var) = &self.params[i];
            h.update(&(name.len() as u32).to_le_bytes());
            h.update(name.as_bytes());
            h.update(&(var.rank() as u32).to_le_bytes());
            for &d in var.dims() {
                h.update(&(d as u64).to_le_bytes());
            }
            let values: Vec<f32> = var.as_tensor().flatten_all()?.to_vec1()?;
            for v in values {
                h.update(&v.to_le_bytes());
            }
        }
        Ok(*h.finalize().as_bytes())
    }

    /// Moves a host batch of `rows` token rows of equal length onto the device, checking every
    /// token against the vocabulary.
    pub fn batch(&self, tokens: &[u32], rows: usize) -> Result<Tensor, ModelError> {
        if rows == 0 || tokens.is_empty() || !tokens.len().is_multiple_of(rows) {
            return Err(ModelError::Batch(format!(
                "{} tokens do not form {rows} equal rows",
                tokens.len()
            )));
        }
        let len = tokens.len() / rows;
        if len < 2 || len > self.config.max_position_embeddings + 1 {
            return Err(ModelError::Batch(format!(
                "rows of {len} tokens are outside 2..={}",
                self.config.max_position_embeddings + 1
            )));
        }
        let vocab = self.config.vocab_size;
        if let Some(&token) = tokens.iter().find(|&&t| t as usize >= vocab) {
            return Err(ModelError::Token { token, vocab });
        }
        Ok(Tensor::from_slice(tokens, (rows, len), &self.device)?)
    }

    /// Logits `[b·t, vocab]` (f32) for input ids `[b, t]`.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor, ModelError> {
        let (b, t) = ids.dims2()?;
        let cfg = &self.config;
        let (h, nh, nkv, hd) = (
            cfg.hidden_size,
            cfg.num_attention_heads,
            cfg.kv_heads(),
            cfg.head_dim(),
        );
        let mut x = self.p(0).index_select(&ids.flatten_all()?, 0)?; // [b·t, h]
        let cos = self.cos.narrow(0, 0, t)?;
        let sin = self.sin.narrow(0, 0, t)?;
        let mask = causal_mask(t, &self.device)?;
        let scale = 1.0 / (hd as f64).sqrt();
        for l in &self.layers {
            let a = self.rms_norm(&x, l.ln1)?;
            let heads = |idx: usize, n: usize| -> Result<Tensor, ModelError> {
                Ok(self
                    .linear(&a, idx)?
                    .reshape((b, t, n, hd))?
                    .transpose(1, 2)?
                    .contiguous()?)
            };
            let q = rope(&heads(l.q, nh)?, &cos, &sin)?;
            let k = repeat_kv(rope(&heads(l.k, nkv)?, &cos, &sin)?, nh / nkv)?;
            let v = repeat_kv(heads(l.v, nkv)?, nh / nkv)?;
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&mask)?;
            let mixed = softmax(&scores)?.matmul(&v)?; // [b, nh, t, hd]
            let mixed = mixed.transpose(1, 2)?.reshape((b * t, h))?;
            x = (x + self.linear(&mixed, l.o)?)?;
            let m = self.rms_norm(&x, l.ln2)?;
            let gate = candle_core::Tensor::silu(&self.linear(&m, l.gate)?)?;
            let up = self.linear(&m, l.up)?;
            x = (x + self.linear(&(gate * up)?, l.down)?)?;
        }
        let x = self.rms_norm(&x, self.norm)?;
        self.linear(&x, self.head)
    }

    /// Sum of next-token cross-entropy over a batch `[b, L]` (predictions at positions
    /// `0..L−1`), as a scalar f32 tensor, and the number of predictions.
    pub fn loss_sum(&self, rows: &Tensor) -> Result<(Tensor, usize), ModelError> {
        let (b, len) = rows.dims2()?;
        let inputs = rows.narrow(1, 0, len - 1)?;
        let targets = rows.narrow(1, 1, len - 1)?.flatten_all()?;
        let logits = self.forward(&inputs)?;
        let max = logits.max_keepdim(D::Minus1)?.detach();
        let shifted = logits.broadcast_sub(&max)?;
        let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
        let picked = shifted.gather(&targets.unsqueeze(1)?, 1)?;
        let nll = (lse - picked)?.sum_all()?;
        Ok((nll, b * (len - 1)))
    }

    fn p(&self, i: usize) -> &Tensor {
        self.params[i].1.as_tensor()
    }

    fn linear(&self, x: &Tensor, i: usize) -> Result<Tensor, ModelError> {
        let dt = self.precision.dtype();
        let w = self.p(i).to_dtype(dt)?;
        Ok(x.to_dtype(dt)?.matmul(&w.t()?)?.to_dtype(DType::F32)?)
    }

    fn rms_norm(&self, x: &Tensor, i: usize) -> Result<Tensor, ModelError> {
        let ms = x.sqr()?.mean_keepdim(D::Minus1)?;
        let inv = (ms + self.config.rms_norm_eps)?.sqrt()?.recip()?;
        Ok(x.broadcast_mul(&inv)?.broadcast_mul(self.p(i))?)
    }
}

/// `cos` and `sin` tables `[max_positions, head_dim]` in Hugging Face's half-split layout.
fn rope_tables(cfg: &ModelConfig, device: &Device) -> Result<(Tensor, Tensor), ModelError> {
    let hd = cfg.head_dim();
    let half = hd / 2;
    let n = cfg.max_position_embeddings;
    let inv: Vec<f64> = (0..half)
        .map(|i| cfg.rope_theta.powf(-((2 * i) as f64) / hd as f64))
        .collect();
    let mut cos = Vec::with_capacity(n * hd);
    let mut sin = Vec::with_capacity(n * hd);
    for p in 0..n {
        for j in 0..hd {
            let angle = p as f64 * inv[j % half];
            cos.push(angle.cos() as f32);
            sin.push(angle.sin() as f32);
        }
    }
    Ok((
        Tensor::from_vec(cos, (n, hd), device)?,
        Tensor::from_vec(sin, (n, hd), device)?,
    ))
}

/// `x·cos + rotate_half(x)·sin` for `x` of shape `[b, heads, t, hd]`.
fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor, ModelError> {
    let hd = x.dim(D::Minus1)?;
    let x1 = x.narrow(D::Minus1, 0, hd / 2)?;
    let x2 = x.narrow(D::Minus1, hd / 2, hd / 2)?;
    let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
    Ok((x.broadcast_mul(cos)? + rotated.broadcast_mul(sin)?)?)
}

/// Repeats each key/value head `n` times: `[b, kv, t, hd]` → `[b, kv·n, t, hd]`.
fn repeat_kv(x: Tensor, n: usize) -> Result<Tensor, ModelError> {
    if n == 1 {
        return Ok(x);
    }
    let (b, kv, t, hd) = x.dims4()?;
    Ok(x.unsqueeze(2)?
        .broadcast_as((b, kv, n, t, hd))?
        .reshape((b, kv * n, t, hd))?)
}

fn causal_mask(t: usize, device: &Device) -> Result<Tensor, ModelError> {
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Ok(Tensor::from_vec(mask, (t, t), device)?)
}

/// Softmax over the last dimension, from differentiable primitives.
fn softmax(x: &Tensor) -> Result<Tensor, ModelError> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    Ok(e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Model {
        Model::init(&ModelConfig::tiny(), 7, &Device::Cpu).unwrap()
    }

    #[test]
    fn init_is_deterministic_and_seeded() {
        let a = tiny();
        assert_eq!(a.state_hash().unwrap(), tiny().state_hash().unwrap());
        let b = Model::init(&ModelConfig::tiny(), 8, &Device::Cpu).unwrap();
        assert_ne!(a.state_hash().unwrap(), b.state_hash().unwrap());
        let w = a.flat("model.layers.0.mlp.up_proj.weight").unwrap();
        let std = (w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32).sqrt();
        assert!((std - 0.02).abs() < 0.002, "init std {std}");
        assert!(
            a.flat("model.norm.weight")
                .unwrap()
                .iter()
                .all(|&v| v == 1.0)
        );
    }

    #[test]
    fn forward_shapes_and_initial_loss() {
        let m = tiny();
        let v = m.config().vocab_size;
        let tokens: Vec<u32> = (0..2 * 17).map(|i| (i * 31 % v) as u32).collect();
        let rows = m.batch(&tokens, 2).unwrap();
        let logits = m.forward(&rows).unwrap();
        assert_eq!(logits.dims(), &[2 * 17, v]);
        let (sum, n) = m.loss_sum(&rows).unwrap();
        let mean = sum.to_scalar::<f32>().unwrap() / n as f32;
        // A freshly initialized model is close to uniform over the vocabulary.
        assert!((mean - (v as f32).ln()).abs() < 0.1, "initial loss {mean}");
    }

    #[test]
    fn bf16_products_track_f32() {
        let mut m = tiny();
        let tokens: Vec<u32> = (0..4 * 33).map(|i| (i * 13 % 500) as u32).collect();
        let rows = m.batch(&tokens, 4).unwrap();
        let loss = |m: &Model| {
            let (s, n) = m.loss_sum(&rows).unwrap();
            s.to_scalar::<f32>().unwrap() / n as f32
        };
        let full = loss(&m);
        m.set_precision(Precision::Bf16);
        assert_eq!(m.precision(), Precision::Bf16);
        let half = loss(&m);
        assert!(
            half.is_finite() && (half - full).abs() < 0.02,
            "{full} vs {half}"
        );
        assert_ne!(half, full, "bf16 products should round differently");
    }

    #[test]
    fn attention_is_causal() {
        let m = tiny();
        let a: Vec<u32> = (0..12).collect();
        let mut b = a.clone();
        b[11] = 400;
        let la = m.forward(&m.batch(&a, 1).unwrap()).unwrap();
        let lb = m.forward(&m.batch(&b, 1).unwrap()).unwrap();
        let prefix = |l: &Tensor| l.narrow(0, 0, 11).unwrap().flatten_all().unwrap();
        let (pa, pb): (Vec<f32>, Vec<f32>) = (
            prefix(&la).to_vec1().unwrap(),
            prefix(&lb).to_vec1().unwrap(),
        );
        assert_eq!(pa, pb, "a later token changed earlier logits");
        let last = |l: &Tensor| l.narrow(0, 11, 1).unwrap().flatten_all().unwrap();
        assert_ne!(
            last(&la).to_vec1::<f32>().unwrap(),
            last(&lb).to_vec1::<f32>().unwrap()
        );
    }

    #[test]
    fn bad_batches_are_typed_errors() {
        let m = tiny();
        assert!(matches!(m.batch(&[1, 2, 3], 2), Err(ModelError::Batch(_))));
        assert!(matches!(m.batch(&[1], 1), Err(ModelError::Batch(_))));
        assert!(matches!(
            m.batch(&[1, 512], 1),
            Err(ModelError::Token { token: 512, .. })
        ));
        let long = vec![0u32; m.config().max_position_embeddings + 2];
        assert!(matches!(m.batch(&long, 1), Err(ModelError::Batch(_))));
        assert!(matches!(
            m.set_flat("model.norm.weight", &[1.0]),
            Err(ModelError::Length { .. })
        ));
        assert!(matches!(
            m.flat("nope"),
            Err(ModelError::UnknownParameter(_))
        ));
    }

    #[test]
    fn gradients_reach_every_parameter() {
        let m = tiny();
        let tokens: Vec<u32> = (0..2 * 9).map(|i| (i * 7 % 500) as u32).collect();
        let (loss, _) = m.loss_sum(&m.batch(&tokens, 2).unwrap()).unwrap();
        let grads = loss.backward().unwrap();
        for (name, var) in m.params() {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no grad for {name}"));
            let norm = g
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(norm > 0.0 && norm.is_finite(), "{name}: grad norm {norm}");
        }
    }
}
