//! `kiln dataset build`: text or JSONL in, token shards out, through a byte-level tokenizer or a
//! Hugging Face `tokenizer.json`.

use super::manifest::{Manifest, hex};
use super::writer::{ShardWriter, WriteError};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The byte-level tokenizer's end-of-document token (bytes are 0..=255).
pub const BYTES_EOS: u32 = 256;

/// Why a corpus could not be tokenized.
#[derive(Debug, Error)]
pub enum BuildError {
    /// An input could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSONL line is not an object with the text field.
    #[error("{path}:{line}: {reason}")]
    Jsonl {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The tokenizer file could not be loaded or failed to encode.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// Writing shards failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// A tokenizer for building datasets.
#[derive(Debug)]
pub enum Tokenizer {
    /// UTF-8 bytes as ids 0..=255, [`BYTES_EOS`] between documents; vocabulary 257.
    Bytes,
    /// A Hugging Face tokenizer.
    HuggingFace {
        /// The tokenizer.
        inner: Box<tokenizers::Tokenizer>,
        /// `hf:<blake3 of tokenizer.json>`.
        id: String,
        /// The end-of-document token.
        eos: u32,
    },
}

/// End-of-text names tried when `--eos-token` is not given.
const EOS_NAMES: [&str; 5] = [
    "<|end_of_text|>",
    "<|endoftext|>",
    "</s>",
    "<eos>",
    "<|im_end|>",
];

impl Tokenizer {
    /// Loads `tokenizer.json`; `eos` names the end-of-document token (default: the first of
    /// `<|end_of_text|>`, `<|endoftext|>`, `</s>`, `<eos>`, `<|im_end|>` the vocabulary has).
    pub fn from_file(path: &Path, eos: Option<&str>) -> Result<Self, BuildError> {
        let bytes = std::fs::read(path).map_err(|source| BuildError::Io {
            path: path.into(),
            source,
        })?;
        let inner = tokenizers::Tokenizer::from_bytes(&bytes)
            .map_err(|e| BuildError::Tokenizer(format!("{}: {e}", path.display())))?;
        let names: Vec<&str> = eos.map_or(EOS_NAMES.to_vec(), |e| vec![e]);
        let eos = names
            .iter()
            .find_map(|n| inner.token_to_id(n))
            .ok_or_else(|| {
                BuildError::Tokenizer(format!("no end-of-document token among {names:?}"))
            })?;
        Ok(Self::HuggingFace {
            inner: Box::new(inner),
            id: format!("hf:{}", hex(blake3::hash(&bytes).as_bytes())),
            eos,
        })
    }

    /// The id recorded in the manifest.
    pub fn id(&self) -> String {
        match self {
            Self::Bytes => "bytes-v1".into(),
            Self::HuggingFace { id, .. } => id.clone(),
        }
    }

    /// Vocabulary size (added tokens included).
    pub fn vocab_size(&self) -> u32 {
        match self {
            Self::Bytes => BYTES_EOS + 1,
            Self::HuggingFace { inner, .. } => inner.get_vocab_size(true) as u32,
        }
    }

    /// The token appended after every document.
    pub fn eos(&self) -> u32 {
        match self {
            Self::Bytes => BYTES_EOS,
            Self::HuggingFace { eos, .. } => *eos,
        }
    }

    /// Token ids of `text` (no special tokens added).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, BuildError> {
        match self {
            Self::Bytes => Ok(text.bytes().map(u32::from).collect()),
            Self::HuggingFace { inner, .. } => inner
                .encode(text, false)
                .map(|e| e.get_ids().to_vec())
                .map_err(|e| BuildError::Tokenizer(e.to_string())),
        }
    }
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The written manifest.
    pub manifest: Manifest,
    /// Documents read.
    pub documents: u64,
    /// Tokens produced, separators included.
    pub tokens: u64,
    /// Tokens after the last full row, not written (reported, never silently lost).
    pub dropped_tail_tokens: u64,
}

/// Tokenizes `inputs` into `out`. A `.jsonl` file contributes one document per line (the string
/// field `text_field`); any other file is one UTF-8 document. Documents are joined into one
/// stream with the end-of-document token after each and cut into rows of `seq_len`.
pub fn build(
    tokenizer: &Tokenizer,
    inputs: &[PathBuf],
    text_field: &str,
    out: &Path,
    seq_len: u32,
    rows_per_shard: u32,
) -> Result<BuildReport, BuildError> {
    let mut writer = ShardWriter::new(
        out,
        &tokenizer.id(),
        tokenizer.vocab_size(),
        seq_len,
        rows_per_shard,
    )?;
    let mut pending: Vec<u32> = Vec::new();
    let (mut documents, mut tokens) = (0u64, 0u64);
    let mut add = |text: &str, writer: &mut ShardWriter| -> Result<(), BuildError> {
        let mut ids = tokenizer.encode(text)?;
        ids.push(tokenizer.eos());
        documents += 1;
        tokens += ids.len() as u64;
        pending.extend_from_slice(&ids);
        let full = pending.len() / seq_len as usize * seq_len as usize;
        for row in pending[..full].chunks_exact(seq_len as usize) {
            writer.push_row(row)?;
        }
        pending.drain(..full);
        Ok(())
    };
    for path in inputs {
        let io = |source| BuildError::Io {
            path: path.clone(),
            source,
        };
        if path.extension().is_some_and(|e| e == "jsonl") {
            let file = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
            for (i, line) in file.lines().enumerate() {
                let line = line.map_err(io)?;
                if line.trim().is_empty() {
                    continue;
                }
                let text = jsonl_text(&line, text_field).map_err(|reason| BuildError::Jsonl {
                    path: path.clone(),
                    line: i + 1,
                    reason,
                })?;
                add(&text, &mut writer)?;
            }
        } else {
            add(&std::fs::read_to_string(path).map_err(io)?, &mut writer)?;
        }
    }
    let dropped = tokens - writer.rows() * u64::from(seq_len);
    Ok(BuildReport {
        manifest: writer.finish()?,
        documents,
        tokens,
        dropped_tail_tokens: dropped,
    })
}

fn jsonl_text(line: &str, field: &str) -> Result<String, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    v.get(field)
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("no string field {field:?}"))
}
