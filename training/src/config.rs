//! Model configuration: the LLaMA architecture numbers, read from and written as a Hugging Face
//! `config.json`, plus kiln's presets.

use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// Largest vocabulary, width, depth, head count and context a config may ask for. Configs come
/// from files other people write; these bounds keep a hostile one from asking for an absurd
/// allocation (the largest preset is well inside them).
const MAX_VOCAB: usize = 1 << 20;
const MAX_HIDDEN: usize = 1 << 16;
const MAX_LAYERS: usize = 1024;
const MAX_HEADS: usize = 1024;
const MAX_POSITIONS: usize = 1 << 20;

/// A LLaMA-style decoder's shape. Field names and meaning follow Hugging Face's `LlamaConfig`, so
/// a `config.json` of a LLaMA checkpoint deserializes into it (unknown keys are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Residual stream width.
    pub hidden_size: usize,
    /// SwiGLU inner width.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention); equal to the query heads for plain MHA.
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Longest sequence the rotary tables are built for.
    pub max_position_embeddings: usize,
    /// RMSNorm epsilon.
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    /// RoPE base.
    #[serde(default = "default_theta")]
    pub rope_theta: f64,
    /// Whether the output head shares the embedding matrix.
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// Activation of the MLP gate; only `silu` is supported.
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Standard deviation of the normal initialization of every matrix.
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
}

fn default_eps() -> f64 {
    1e-5
}
fn default_theta() -> f64 {
    10_000.0
}
fn default_act() -> String {
    "silu".into()
}
fn default_init_range() -> f64 {
    0.02
}

/// Why a config is not usable.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// A size is zero or above kiln's bound.
    #[error("{field} = {value} is outside 1..={max}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// Its value.
        value: usize,
        /// The bound.
        max: usize,
    },
    /// The sizes do not divide as attention needs.
    #[error("{0}")]
    Shape(String),
    /// A float field is not a positive finite number.
    #[error("{field} = {value} must be positive and finite")]
    Float {
        /// The field.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// The MLP activation is not SiLU.
    #[error("hidden_act {0:?} is not supported (only \"silu\")")]
    Activation(String),
    /// No preset of that name.
    #[error("unknown model preset {0:?} (tiny, small, 1b, 8b, 72b)")]
    UnknownPreset(String),
}

/// Why a `config.json` could not be read.
#[derive(Debug, Error)]
pub enum ConfigReadError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The JSON does not describe a LLaMA config.
    #[error("parsing model config: {0}")]
    Json(#[from] serde_json::Error),
    /// It parsed but is not usable.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

impl ModelConfig {
    /// About 120k parameters: trains in milliseconds per step on two CPU cores (tests, `kiln up`).
    pub fn tiny() -> Self {
        Self::llama(512, 64, 176, 2, 4, 2, 512, true)
    }

    /// About 22M parameters with a 32k vocabulary: the smallest size that behaves like a
    /// language model on real text.
    pub fn small() -> Self {
        Self::llama(32_000, 384, 1024, 6, 6, 2, 2048, true)
    }

    /// The LLaMA-3.2-1B shape (tied embeddings, 8 KV heads).
    pub fn one_b() -> Self {
        Self {
            rope_theta: 500_000.0,
            ..Self::llama(128_256, 2048, 8192, 16, 32, 8, 8192, true)
        }
    }

    /// The LLaMA-3.1-8B shape (untied output head).
    pub fn eight_b() -> Self {
        Self {
            rope_theta: 500_000.0,
            ..Self::llama(128_256, 4096, 14_336, 32, 32, 8, 8192, false)
        }
    }

    /// Covenant-72B's shape: width 8192, 80 layers, 64 query / 8 KV heads, FFN 28672, a 262,144
    /// token vocabulary, tied embeddings.
    pub fn seventy_two_b() -> Self {
        Self {
            rope_theta: 500_000.0,
            ..Self::llama(262_144, 8192, 28_672, 80, 64, 8, 8192, true)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn llama(
        vocab: usize,
        hidden: usize,
        inter: usize,
        layers: usize,
        heads: usize,
        kv: usize,
        positions: usize,
        tied: bool,
    ) -> Self {
        Self {
            vocab_size: vocab,
            hidden_size: hidden,
            intermediate_size: inter,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            num_key_value_heads: Some(kv),
            max_position_embeddings: positions,
            rms_norm_eps: default_eps(),
            rope_theta: default_theta(),
            tie_word_embeddings: tied,
            hidden_act: default_act(),
            initializer_range: default_init_range(),
        }
    }

    /// A preset by name: `tiny`, `small`, `1b`, `8b` or `72b`.
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        match name {
            "tiny" => Ok(Self::tiny()),
            "small" => Ok(Self::small()),
            "1b" => Ok(Self::one_b()),
            "8b" => Ok(Self::eight_b()),
            "72b" => Ok(Self::seventy_two_b()),
            other => Err(ConfigError::UnknownPreset(other.into())),
        }
    }

    /// Parses a Hugging Face `config.json` and validates it.
    pub fn from_json(text: &str) -> Result<Self, ConfigReadError> {
        let c: Self = serde_json::from_str(text)?;
        c.validate()?;
        Ok(c)
    }

    /// Reads and validates a `config.json` file.
    pub fn read(path: &Path) -> Result<Self, ConfigReadError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigReadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// The `config.json` Hugging Face's `LlamaForCausalLM` loads.
    pub fn to_hf_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("config serializes");
        let o = v.as_object_mut().expect("an object");
        o.insert("num_key_value_heads".into(), self.kv_heads().into());
        o.insert(
            "architectures".into(),
            serde_json::json!(["LlamaForCausalLM"]),
        );
        o.insert("model_type".into(), "llama".into());
        o.insert("torch_dtype".into(), "float32".into());
        v
    }

    /// Key/value heads (defaults to the query heads).
    pub fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Checks every size and ratio the model relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ranges = [
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("hidden_size", self.hidden_size, MAX_HIDDEN),
            ("intermediate_size", self.intermediate_size, 4 * MAX_HIDDEN),
            ("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS),
            ("num_attention_heads", self.num_attention_heads, MAX_HEADS),
            ("num_key_value_heads", self.kv_heads(), MAX_HEADS),
            (
                "max_position_embeddings",
                self.max_position_embeddings,
                MAX_POSITIONS,
            ),
        ];
        for (field, value, max) in ranges {
            if value == 0 || value > max {
                return Err(ConfigError::OutOfRange { field, value, max });
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(ConfigError::Shape(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            )));
        }
        if !self.num_attention_heads.is_multiple_of(self.kv_heads()) {
            return Err(ConfigError::Shape(format!(
                "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                self.num_attention_heads,
                self.kv_heads()
            )));
        }
        if !self.head_dim().is_multiple_of(2) {
            return Err(ConfigError::Shape(format!(
                "head dimension {} must be even for rotary embeddings",
                self.head_dim()
            )));
        }
        for (field, value) in [
            ("rms_norm_eps", self.rms_norm_eps),
            ("rope_theta", self.rope_theta),
            ("initializer_range", self.initializer_range),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(ConfigError::Float { field, value });
            }
        }
        if self.hidden_act != "silu" {
            return Err(ConfigError::Activation(self.hidden_act.clone()));
        }
        Ok(())
    }

    /// Every parameter's Hugging Face name and shape, in kiln's canonical order (embedding, then
    /// each layer, then the final norm and the head).
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let (h, i, v) = (self.hidden_size, self.intermediate_size, self.vocab_size);
        let kv = self.kv_heads() * self.head_dim();
        let mut out = vec![("model.embed_tokens.weight".to_string(), vec![v, h])];
        for l in 0..self.num_hidden_layers {
            let p = format!("model.layers.{l}");
            out.extend([
                (format!("{p}.input_layernorm.weight"), vec![h]),
                (format!("{p}.self_attn.q_proj.weight"), vec![h, h]),
                (format!("{p}.self_attn.k_proj.weight"), vec![kv, h]),
                (format!("{p}.self_attn.v_proj.weight"), vec![kv, h]),
                (format!("{p}.self_attn.o_proj.weight"), vec![h, h]),
                (format!("{p}.post_attention_layernorm.weight"), vec![h]),
                (format!("{p}.mlp.gate_proj.weight"), vec![i, h]),
                (format!("{p}.mlp.up_proj.weight"), vec![i, h]),
                (format!("{p}.mlp.down_proj.weight"), vec![h, i]),
            ]);
        }
        out.push(("model.norm.weight".into(), vec![h]));
        if !self.tie_word_embeddings {
            out.push(("lm_head.weight".into(), vec![v, h]));
        }
        out
    }

    /// Total parameter count.
    pub fn parameter_count(&self) -> u64 {
        self.parameter_shapes()
            .iter()
            .map(|(_, s)| s.iter().product::<usize>() as u64)
            .sum()
    }

    /// Forward FLOPs per token at context `seq_len`: `2·N` for the matrix products plus the
    /// attention scores and mixing (`4·layers·seq·hidden`, causal halving ignored, as in the
    /// usual MFU accounting). A training step costs three times this.
    pub fn forward_flops_per_token(&self, seq_len: usize) -> f64 {
        let dense = 2.0 * self.parameter_count() as f64;
        let attn = 4.0 * (self.num_hidden_layers * seq_len * self.hidden_size) as f64;
        dense + attn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_sized_as_named() {
        for name in ["tiny", "small", "1b", "8b", "72b"] {
            ModelConfig::preset(name).unwrap().validate().unwrap();
        }
        let n = |c: ModelConfig| c.parameter_count() as f64;
        assert!((100e3..200e3).contains(&n(ModelConfig::tiny())));
        assert!((18e6..25e6).contains(&n(ModelConfig::small())));
        assert!((1.1e9..1.3e9).contains(&n(ModelConfig::one_b())));
        assert!((7.9e9..8.1e9).contains(&n(ModelConfig::eight_b())));
        assert!((70e9..73e9).contains(&n(ModelConfig::seventy_two_b())));
        assert!(matches!(
            ModelConfig::preset("huge"),
            Err(ConfigError::UnknownPreset(_))
        ));
    }

    #[test]
    fn reads_a_hugging_face_config() {
        let json = r#"{
            "architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192,
            "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
            "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
            "tie_word_embeddings": true, "hidden_act": "silu", "torch_dtype": "bfloat16",
            "rope_scaling": {"factor": 32.0}
        }"#;
        let c = ModelConfig::from_json(json).unwrap();
        assert_eq!(c, ModelConfig::one_b());
        let back = ModelConfig::from_json(&c.to_hf_json().to_string()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn rejects_unusable_configs() {
        let bad = |f: fn(&mut ModelConfig)| {
            let mut c = ModelConfig::tiny();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert!(matches!(
            bad(|c| c.hidden_size = 0),
            ConfigError::OutOfRange {
                field: "hidden_size",
                ..
            }
        ));
        assert!(matches!(
            bad(|c| c.vocab_size = usize::MAX),
            ConfigError::OutOfRange { .. }
        ));
        assert!(matches!(
            bad(|c| c.num_attention_heads = 3),
            ConfigError::Shape(_)
        ));
        assert!(matches!(
            bad(|c| c.num_key_value_heads = Some(3)),
            ConfigError::Shape(_)
        ));
        assert!(matches!(
            bad(|c| c.rms_norm_eps = f64::NAN),
            ConfigError::Float { .. }
        ));
        assert!(matches!(
            bad(|c| c.hidden_act = "gelu".into()),
            ConfigError::Activation(_)
        ));
        assert!(matches!(
            ModelConfig::from_json("{\"vocab_size\": 3}"),
            Err(ConfigReadError::Json(_))
        ));
    }

    #[test]
    fn parameter_names_follow_hugging_face() {
        let c = ModelConfig::tiny();
        let names: Vec<String> = c.parameter_shapes().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), 1 + 9 * c.num_hidden_layers + 1);
        assert_eq!(names[0], "model.embed_tokens.weight");
        assert_eq!(names[2], "model.layers.0.self_attn.q_proj.weight");
        assert!(!names.contains(&"lm_head.weight".to_string()));
        let untied = ModelConfig {
            tie_word_embeddings: false,
            ..c
        };
        assert_eq!(
            untied.parameter_shapes().last().unwrap().0,
            "lm_head.weight"
        );
    }
}
