//! Typed, versioned, validated run parameters ("hparams") and their canonical hash.
//!
//! Hparams load from TOML or JSON (unknown fields are rejected), validate with a typed error
//! naming the field, and hash canonically: `hparams_hash = blake3::derive_key("kiln hparams v1",
//! canonical JSON)`, where the canonical JSON has object keys sorted lexicographically, no
//! whitespace, and numbers in shortest round-trip form. Two runs agree on parameters exactly
//! when their hashes agree; every artifact header carries the hash.

use crate::Digest;
use crate::codec::{MAX_CHUNK_SIDE, PeerMean};
use crate::window::{WindowClock, WindowClockError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The hparams schema version this crate reads and writes.
pub const HPARAMS_VERSION: u32 = 1;

const HASH_CONTEXT: &str = "kiln hparams v1";

/// Problems found by [`Hparams::validate`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum HparamsError {
    /// The schema version is not one this build understands.
    #[error("unsupported hparams version {found} (this build reads version {HPARAMS_VERSION})")]
    UnsupportedVersion {
        /// The version in the input.
        found: u32,
    },
    /// An integer field is outside its allowed range.
    #[error("{field} = {value} is out of range: expected {expected}")]
    IntOutOfRange {
        /// Dotted field path.
        field: &'static str,
        /// The offending value.
        value: u64,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// A real-valued field is outside its allowed range or not finite.
    #[error("{field} = {value} is out of range: expected {expected}")]
    RealOutOfRange {
        /// Dotted field path.
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// The window fields do not form a valid window clock.
    #[error("window: {0}")]
    Window(#[from] WindowClockError),
    /// Two fields contradict each other.
    #[error("{0}")]
    Inconsistent(String),
}

/// Errors from parsing hparams text.
#[derive(Debug, Error)]
pub enum HparamsParseError {
    /// The TOML text did not match the schema.
    #[error("invalid hparams TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// The JSON text did not match the schema.
    #[error("invalid hparams JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The text parsed but the values are invalid.
    #[error(transparent)]
    Invalid(#[from] HparamsError),
}

/// Every parameter a run agrees on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hparams {
    /// Schema version; must equal [`HPARAMS_VERSION`].
    pub version: u32,
    /// Human-readable run or preset name (part of the hash).
    pub name: String,
    /// Window clock and cadence.
    pub window: WindowParams,
    /// Data layout and pool sizes.
    pub data: DataParams,
    /// The miner's inner optimizer.
    pub inner: InnerParams,
    /// SparseLoCo compression.
    pub compression: CompressionParams,
    /// The outer step.
    pub outer: OuterParams,
    /// Validator evaluation.
    pub evaluation: EvaluationParams,
}

/// Window clock and cadence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowParams {
    /// Blocks per training window.
    pub blocks_per_window: u64,
    /// Blocks of the next window during which commitments for a window are still accepted.
    pub commit_grace_blocks: u64,
    /// Validators set weights every this many windows.
    pub windows_per_weights: u64,
}

/// Data layout and pool sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataParams {
    /// Tokens per row.
    pub seq_len: u32,
    /// Rows per inner step (global batch of one miner).
    pub batch_rows: u32,
    /// Rows in a miner's assigned pool per window; at least `inner.steps × batch_rows`.
    pub pool_rows: u32,
    /// Rows the validator evaluates per miner, drawn from the rows the miner's steps consumed
    /// (the first `inner.steps × batch_rows` of its pool).
    pub eval_rows: u32,
    /// Rows in the window's shared random pool.
    pub random_rows: u32,
    /// Rows at the end of the dataset that no pool ever draws: the validator measures the
    /// model's loss on them every window (0: no such measurement).
    #[serde(default)]
    pub heldout_rows: u32,
}

/// The miner's inner AdamW loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InnerParams {
    /// Optimizer steps per window (H).
    pub steps: u32,
    /// Peak learning rate.
    pub lr: f64,
    /// AdamW β1.
    pub beta1: f64,
    /// AdamW β2.
    pub beta2: f64,
    /// AdamW ε.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Gradient-norm clip (0 disables).
    pub grad_clip: f64,
    /// Linear warm-up length in inner steps.
    pub warmup_steps: u32,
}

/// SparseLoCo compression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompressionParams {
    /// Target chunk side: each dimension is split into blocks of its largest divisor ≤ this.
    pub chunk: u32,
    /// Values kept per chunk (all of a chunk smaller than this).
    pub topk: u32,
    /// Bits per kept value; protocol v1 supports exactly 2.
    pub value_bits: u32,
    /// Error-feedback decay β in `e ← β·e + Δ`.
    pub error_feedback_decay: f64,
}

/// The outer step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OuterParams {
    /// Outer SGD learning rate: `θ ← θ − lr·aggregate` (no outer momentum: the error feedback
    /// plays that role, as in SparseLoCo).
    pub lr: f64,
    /// How the aggregate averages a coordinate over the peers (default: over the peers that
    /// selected it).
    #[serde(default)]
    pub mean: PeerMean,
}

/// Validator evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationParams {
    /// Multiplier on `outer.lr` when applying one miner's update alone for scoring.
    pub eval_lr_factor: f64,
    /// Weight of the newest indicator in the binary moving average.
    pub bma_alpha: f64,
    /// The assigned-data check passes when the update's relative improvement on the miner's own
    /// rows exceeds this multiple of its improvement on the window's random rows (see
    /// [`crate::scoring::assigned_data_indicator`]). 1 is Templar's plain comparison.
    pub assigned_min_ratio: f64,
}

/// Names of the built-in presets.
pub const PRESETS: [&str; 4] = ["tiny", "small", "1b", "72b"];

impl Hparams {
    /// A built-in preset by name (`tiny`, `small`, `1b`, `72b`).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "tiny" => Some(Self::tiny()),
            "small" => Some(Self::small()),
            "1b" => Some(Self::one_b()),
            "72b" => Some(Self::seventy_two_b()),
            _ => None,
        }
    }

    /// CPU tests and `kiln up`: a few fast blocks per window, a handful of inner steps. The
    /// outer step, error feedback and check threshold are tuned with `kiln bench convergence`
    /// (docs/benchmarks.md): outer lr 1, error feedback 0.95, own/random ratio 1.3.
    pub fn tiny() -> Self {
        let base = Self::seventy_two_b();
        Self {
            name: "tiny".into(),
            window: WindowParams {
                blocks_per_window: 20,
                commit_grace_blocks: 4,
                windows_per_weights: 1,
            },
            data: DataParams {
                seq_len: 64,
                batch_rows: 8,
                pool_rows: 64,
                eval_rows: 32,
                random_rows: 32,
                heldout_rows: 64,
            },
            inner: InnerParams {
                steps: 4,
                lr: 1e-3,
                warmup_steps: 4,
                ..base.inner
            },
            compression: CompressionParams {
                topk: 128,
                ..base.compression
            },
            outer: OuterParams {
                lr: 1.0,
                ..base.outer
            },
            evaluation: EvaluationParams {
                assigned_min_ratio: 1.3,
                ..base.evaluation
            },
            ..base
        }
    }

    /// The 22M-parameter `small` model: the tiny protocol on longer rows.
    pub fn small() -> Self {
        let tiny = Self::tiny();
        Self {
            name: "small".into(),
            data: DataParams {
                seq_len: 128,
                ..tiny.data
            },
            ..tiny
        }
    }

    /// A 1B-parameter run on single GPUs: Templar's protocol numbers, a smaller batch.
    pub fn one_b() -> Self {
        let base = Self::seventy_two_b();
        Self {
            name: "1b".into(),
            data: DataParams {
                seq_len: 2048,
                batch_rows: 64,
                pool_rows: 3840,
                eval_rows: 8,
                random_rows: 8,
                heldout_rows: 32,
            },
            inner: InnerParams {
                lr: 4e-4,
                ..base.inner
            },
            ..base
        }
    }

    /// Templar's final Covenant-72B numbers: 115 blocks per window, 30 inner steps, chunk 64,
    /// top-k 64, 2-bit values, error-feedback decay 0.95, outer lr 0.4.
    pub fn seventy_two_b() -> Self {
        Self {
            version: HPARAMS_VERSION,
            name: "72b".into(),
            window: WindowParams {
                blocks_per_window: 115,
                commit_grace_blocks: 6,
                windows_per_weights: 3,
            },
            data: DataParams {
                seq_len: 2048,
                batch_rows: 192,
                pool_rows: 30720,
                eval_rows: 8,
                random_rows: 8,
                heldout_rows: 32,
            },
            inner: InnerParams {
                steps: 30,
                lr: 1.17e-4,
                beta1: 0.9,
                beta2: 0.95,
                eps: 1e-8,
                weight_decay: 0.1,
                grad_clip: 1.0,
                warmup_steps: 1500,
            },
            compression: CompressionParams {
                chunk: 64,
                topk: 64,
                value_bits: 2,
                error_feedback_decay: 0.95,
            },
            outer: OuterParams {
                lr: 0.4,
                mean: PeerMean::Selecting,
            },
            evaluation: EvaluationParams {
                eval_lr_factor: 0.2,
                bma_alpha: 0.05,
                assigned_min_ratio: 1.0,
            },
        }
    }

    /// Parses and validates TOML.
    pub fn from_toml_str(text: &str) -> Result<Self, HparamsParseError> {
        let h: Self = toml::from_str(text)?;
        h.validate()?;
        Ok(h)
    }

    /// Parses and validates JSON.
    pub fn from_json_str(text: &str) -> Result<Self, HparamsParseError> {
        let h: Self = serde_json::from_str(text)?;
        h.validate()?;
        Ok(h)
    }

    /// TOML text of these hparams.
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).expect("hparams contain only TOML-representable values")
    }

    /// Pretty JSON text of these hparams.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).expect("hparams serialize to JSON")
    }

    /// Canonical JSON bytes: sorted keys, no whitespace, shortest round-trip numbers.
    pub fn canonical_json(&self) -> Vec<u8> {
        // serde_json's `Value` keeps object keys in a BTreeMap, i.e. sorted.
        let value = serde_json::to_value(self).expect("hparams serialize to JSON");
        serde_json::to_vec(&value).expect("a JSON value serializes")
    }

    /// The canonical blake3 hash carried in every artifact header.
    pub fn hparams_hash(&self) -> Digest {
        blake3::derive_key(HASH_CONTEXT, &self.canonical_json())
    }

    /// Rows of a dataset of `dataset_rows` that pools draw from: all but the held-out rows at
    /// its end.
    pub fn assignable_rows(&self, dataset_rows: u64) -> u64 {
        dataset_rows.saturating_sub(self.data.heldout_rows.into())
    }

    /// The held-out rows of a dataset of `dataset_rows` (empty when it has no more rows than
    /// that).
    pub fn heldout_rows(&self, dataset_rows: u64) -> std::ops::Range<u64> {
        let start = self.assignable_rows(dataset_rows);
        if start == 0 {
            0..0
        } else {
            start..dataset_rows
        }
    }

    /// The window clock these hparams define (valid after [`Hparams::validate`]).
    pub fn window_clock(&self) -> Result<WindowClock, HparamsError> {
        WindowClock::new(
            self.window.blocks_per_window,
            self.window.commit_grace_blocks,
        )
        .map_err(HparamsError::Window)
    }

    /// Checks every field and every relation between fields.
    pub fn validate(&self) -> Result<(), HparamsError> {
        if self.version != HPARAMS_VERSION {
            return Err(HparamsError::UnsupportedVersion {
                found: self.version,
            });
        }
        let w = &self.window;
        int(
            "window.blocks_per_window",
            w.blocks_per_window,
            1,
            1 << 32,
            "1..=2^32",
        )?;
        int(
            "window.windows_per_weights",
            w.windows_per_weights,
            1,
            1 << 20,
            "1..=2^20",
        )?;
        self.window_clock()?;

        let d = &self.data;
        int("data.seq_len", d.seq_len.into(), 2, 1 << 20, "2..=2^20")?;
        int(
            "data.batch_rows",
            d.batch_rows.into(),
            1,
            1 << 20,
            "1..=2^20",
        )?;
        int("data.pool_rows", d.pool_rows.into(), 1, 1 << 24, "1..=2^24")?;
        int("data.eval_rows", d.eval_rows.into(), 1, 1 << 16, "1..=2^16")?;
        int(
            "data.random_rows",
            d.random_rows.into(),
            1,
            1 << 16,
            "1..=2^16",
        )?;
        int(
            "data.heldout_rows",
            d.heldout_rows.into(),
            0,
            1 << 16,
            "0..=2^16",
        )?;

        let i = &self.inner;
        int("inner.steps", i.steps.into(), 1, 1 << 16, "1..=65536")?;
        real("inner.lr", i.lr, |v| v > 0.0 && v < 1.0, "0 < lr < 1")?;
        real(
            "inner.beta1",
            i.beta1,
            |v| (0.0..1.0).contains(&v),
            "0 <= beta1 < 1",
        )?;
        real(
            "inner.beta2",
            i.beta2,
            |v| (0.0..1.0).contains(&v),
            "0 <= beta2 < 1",
        )?;
        real("inner.eps", i.eps, |v| v > 0.0 && v < 1.0, "0 < eps < 1")?;
        real(
            "inner.weight_decay",
            i.weight_decay,
            |v| (0.0..1.0).contains(&v),
            "0 <= wd < 1",
        )?;
        real(
            "inner.grad_clip",
            i.grad_clip,
            |v| v >= 0.0,
            "finite and >= 0",
        )?;

        let c = &self.compression;
        int(
            "compression.chunk",
            c.chunk.into(),
            1,
            MAX_CHUNK_SIDE.into(),
            "1..=64",
        )?;
        let chunk_len = u64::from(c.chunk) * u64::from(c.chunk);
        int(
            "compression.topk",
            c.topk.into(),
            1,
            chunk_len,
            "1..=chunk*chunk",
        )?;
        int(
            "compression.value_bits",
            c.value_bits.into(),
            2,
            2,
            "2 (protocol v1)",
        )?;
        real(
            "compression.error_feedback_decay",
            c.error_feedback_decay,
            |v| (0.0..=1.0).contains(&v),
            "0..=1",
        )?;

        real(
            "outer.lr",
            self.outer.lr,
            |v| v > 0.0 && v <= 10.0,
            "0 < lr <= 10",
        )?;
        let e = &self.evaluation;
        real(
            "evaluation.eval_lr_factor",
            e.eval_lr_factor,
            |v| v > 0.0 && v <= 10.0,
            "0 < f <= 10",
        )?;
        real(
            "evaluation.bma_alpha",
            e.bma_alpha,
            |v| v > 0.0 && v <= 1.0,
            "0 < alpha <= 1",
        )?;
        real(
            "evaluation.assigned_min_ratio",
            e.assigned_min_ratio,
            |v| (1.0..=100.0).contains(&v),
            "1..=100",
        )?;

        let trained = u64::from(i.steps) * u64::from(d.batch_rows);
        if u64::from(d.pool_rows) < trained {
            return Err(HparamsError::Inconsistent(format!(
                "data.pool_rows ({}) is smaller than inner.steps × data.batch_rows ({trained})",
                d.pool_rows
            )));
        }
        if u64::from(d.eval_rows) > trained {
            return Err(HparamsError::Inconsistent(format!(
                "data.eval_rows ({}) exceeds the rows a miner trains on, inner.steps × \
                 data.batch_rows ({trained})",
                d.eval_rows
            )));
        }
        Ok(())
    }
}

fn int(
    field: &'static str,
    value: u64,
    min: u64,
    max: u64,
    expected: &'static str,
) -> Result<(), HparamsError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(HparamsError::IntOutOfRange {
            field,
            value,
            expected,
        })
    }
}

fn real(
    field: &'static str,
    value: f64,
    ok: impl Fn(f64) -> bool,
    expected: &'static str,
) -> Result<(), HparamsError> {
    if value.is_finite() && ok(value) {
        Ok(())
    } else {
        Err(HparamsError::RealOutOfRange {
            field,
            value,
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_hash_differently() {
        let hashes: Vec<_> = PRESETS
            .iter()
            .map(|n| {
                let h = Hparams::preset(n).unwrap();
                h.validate().unwrap();
                assert_eq!(h.name, *n);
                h.hparams_hash()
            })
            .collect();
        assert_ne!(hashes[0], hashes[1]);
        assert_ne!(hashes[1], hashes[2]);
        assert!(Hparams::preset("nope").is_none());
    }

    #[test]
    fn templar_numbers_in_72b() {
        let h = Hparams::seventy_two_b();
        assert_eq!(h.window.blocks_per_window, 115);
        assert_eq!(h.inner.steps, 30);
        assert_eq!(
            (
                h.compression.chunk,
                h.compression.topk,
                h.compression.value_bits
            ),
            (64, 64, 2)
        );
        assert_eq!(h.compression.error_feedback_decay, 0.95);
        assert_eq!(h.outer.lr, 0.4);
    }

    #[test]
    fn heldout_rows_end_the_dataset_and_leave_the_rest_assignable() {
        let h = Hparams::tiny();
        assert_eq!(h.data.heldout_rows, 64);
        assert_eq!(h.assignable_rows(4096), 4032);
        assert_eq!(h.heldout_rows(4096), 4032..4096);
        assert_eq!(h.assignable_rows(10), 0);
        assert!(h.heldout_rows(10).is_empty());
        let mut none = h.clone();
        none.data.heldout_rows = 0;
        assert_eq!(none.assignable_rows(4096), 4096);
        assert!(none.heldout_rows(4096).is_empty());
        // Files written before the field existed read as no held-out rows.
        let old = h.to_toml_string().replace("heldout_rows = 64\n", "");
        assert_eq!(Hparams::from_toml_str(&old).unwrap().data.heldout_rows, 0);
    }

    #[test]
    fn toml_and_json_round_trip_with_same_hash() {
        for name in PRESETS {
            let h = Hparams::preset(name).unwrap();
            let t = Hparams::from_toml_str(&h.to_toml_string()).unwrap();
            let j = Hparams::from_json_str(&h.to_json_string()).unwrap();
            assert_eq!(t, h);
            assert_eq!(j, h);
            assert_eq!(t.hparams_hash(), h.hparams_hash());
            assert_eq!(j.hparams_hash(), h.hparams_hash());
        }
    }

    #[test]
    fn canonical_json_is_sorted_and_compact() {
        let text = String::from_utf8(Hparams::tiny().canonical_json()).unwrap();
        assert!(!text.contains(' ') && !text.contains('\n'));
        let comp = text.find("\"compression\"").unwrap();
        let data = text.find("\"data\"").unwrap();
        let window = text.find("\"window\"").unwrap();
        assert!(comp < data && data < window, "{text}");
    }

    #[test]
    fn hash_changes_with_any_field() {
        let base = Hparams::tiny();
        let mut other = base.clone();
        other.compression.error_feedback_decay = 0.9;
        assert_ne!(base.hparams_hash(), other.hparams_hash());
        let mut other = base.clone();
        other.window.blocks_per_window += 1;
        assert_ne!(base.hparams_hash(), other.hparams_hash());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_rejected() {
        let mut text = Hparams::tiny().to_toml_string();
        text.push_str("\n[extra]\nfoo = 1\n");
        assert!(matches!(
            Hparams::from_toml_str(&text),
            Err(HparamsParseError::Toml(_))
        ));

        type Mutate = Box<dyn Fn(&mut Hparams)>;
        let cases: Vec<(Mutate, &str)> = vec![
            (Box::new(|h| h.version = 2), "version"),
            (
                Box::new(|h| h.window.blocks_per_window = 0),
                "window.blocks_per_window",
            ),
            (Box::new(|h| h.window.commit_grace_blocks = 20), "grace"),
            (Box::new(|h| h.compression.chunk = 65), "compression.chunk"),
            (Box::new(|h| h.compression.topk = 0), "compression.topk"),
            (
                Box::new(|h| h.compression.value_bits = 8),
                "compression.value_bits",
            ),
            (
                Box::new(|h| h.compression.error_feedback_decay = f64::NAN),
                "error_feedback_decay",
            ),
            (Box::new(|h| h.inner.lr = -1.0), "inner.lr"),
            (Box::new(|h| h.outer.lr = f64::INFINITY), "outer.lr"),
            (Box::new(|h| h.data.pool_rows = 1), "pool_rows"),
            (Box::new(|h| h.data.eval_rows = 1000), "eval_rows"),
        ];
        for (mutate, needle) in cases {
            let mut h = Hparams::tiny();
            mutate(&mut h);
            let err = h.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "expected {needle:?} in {err:?}");
        }
    }
}
