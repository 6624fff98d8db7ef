//! A synthetic corpus for tests, benchmarks and `kiln up`: learnable global structure plus
//! per-document specifics.
//!
//! Every row is one document. Token 0 opens it; each next token is, with probability
//! `topic_prob`, one of the document's own `topic_tokens` (drawn per row), and otherwise a
//! successor of the previous token from a global table (`successors` choices per token, the
//! first ones likelier). A model learns the global table from any rows; it can only learn a row's
//! topic from that row, so training on a set of rows lowers their loss more than other rows'.
//! Every draw comes from the protocol's blake3 stream, so a row is a pure function of
//! `(seed, row index)` and anyone can regenerate any row.

use super::manifest::Manifest;
use super::writer::{ShardWriter, WriteError};
use kiln_protocol::rng::StreamRng;
use std::path::Path;

/// The document-start token.
pub const BOS: u32 = 0;

/// Shape of a synthetic corpus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthConfig {
    /// Token ids are below this (at least 16).
    pub vocab_size: u32,
    /// Tokens per row.
    pub seq_len: u32,
    /// Rows (documents).
    pub rows: u64,
    /// Seed of the grammar and of every row.
    pub seed: u64,
    /// Topic tokens per document.
    pub topic_tokens: u32,
    /// Probability that a token comes from the document's topic.
    pub topic_prob: f64,
    /// Successor choices per token in the global table.
    pub successors: u32,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            vocab_size: 512,
            seq_len: 64,
            rows: 4096,
            seed: 0,
            topic_tokens: 8,
            topic_prob: 0.35,
            successors: 4,
        }
    }
}

/// A corpus generator: the global successor table of one seed.
#[derive(Debug, Clone)]
pub struct Synth {
    config: SynthConfig,
    table: Vec<u32>,
}

impl Synth {
    /// The generator for `config` (vocabulary clamped to at least 16, successors and topic
    /// tokens to at least 1).
    pub fn new(mut config: SynthConfig) -> Self {
        config.vocab_size = config.vocab_size.max(16);
        config.successors = config.successors.max(1);
        config.topic_tokens = config.topic_tokens.max(1);
        let mut rng = StreamRng::new(&key("kiln synth v1 grammar", config.seed, 0));
        let v = u64::from(config.vocab_size);
        let table = (0..v * u64::from(config.successors))
            .map(|_| 1 + rng.below(v - 1) as u32)
            .collect();
        Self { config, table }
    }

    /// The config.
    pub fn config(&self) -> &SynthConfig {
        &self.config
    }

    /// Row `r`: `seq_len` tokens starting with [`BOS`].
    pub fn row(&self, r: u64) -> Vec<u32> {
        let c = &self.config;
        let mut rng = StreamRng::new(&key("kiln synth v1 row", c.seed, r));
        let v = u64::from(c.vocab_size);
        let topic: Vec<u32> = (0..c.topic_tokens)
            .map(|_| 1 + rng.below(v - 1) as u32)
            .collect();
        let s = u64::from(c.successors);
        let mut row = Vec::with_capacity(c.seq_len as usize);
        let mut prev = BOS;
        row.push(prev);
        while row.len() < c.seq_len as usize {
            prev = if rng.unit_f64() < c.topic_prob {
                topic[rng.below(topic.len() as u64) as usize]
            } else {
                let j = rng.below(s).min(rng.below(s));
                self.table[(u64::from(prev) * s + j) as usize]
            };
            row.push(prev);
        }
        row
    }

    /// Writes the corpus as a dataset in `dir`.
    pub fn write(&self, dir: &Path, rows_per_shard: u32) -> Result<Manifest, WriteError> {
        let c = &self.config;
        let tokenizer = format!("synthetic-v1:{}", c.seed);
        let mut w = ShardWriter::new(dir, &tokenizer, c.vocab_size, c.seq_len, rows_per_shard)?;
        for r in 0..c.rows {
            w.push_row(&self.row(r))?;
        }
        w.finish()
    }
}

fn key(context: &str, seed: u64, r: u64) -> [u8; 32] {
    let mut material = seed.to_le_bytes().to_vec();
    material.extend_from_slice(&r.to_le_bytes());
    blake3::derive_key(context, &material)
}
