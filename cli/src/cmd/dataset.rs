//! `kiln dataset`: make, tokenize and verify token-shard datasets.

use anyhow::{Context, Result};
use clap::Subcommand;
use kiln_training::data::{Dataset, Synth, SynthConfig, Tokenizer, build};
use std::path::PathBuf;

/// `kiln dataset ...`
#[derive(Debug, Subcommand)]
pub(crate) enum DatasetCmd {
    /// Write a synthetic corpus (global structure plus per-document topics) for tests and
    /// `kiln up`.
    Synth {
        /// Output directory (shards and `manifest.json`).
        #[arg(long, env = "KILN_DATASET_DIR")]
        out: PathBuf,
        /// Rows (documents).
        #[arg(long, default_value_t = 4096)]
        rows: u64,
        /// Tokens per row.
        #[arg(long, default_value_t = 64)]
        seq_len: u32,
        /// Vocabulary size (the tiny model preset has 512).
        #[arg(long, default_value_t = 512)]
        vocab: u32,
        /// Seed of the grammar and the documents.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Rows per shard file.
        #[arg(long, default_value_t = 1024)]
        rows_per_shard: u32,
    },
    /// Tokenize text files (one document each) and JSONL files (one document per line) into
    /// shards.
    Build {
        /// Input files; `.jsonl` files are read line by line.
        #[arg(long, required = true, num_args = 1..)]
        input: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// A Hugging Face `tokenizer.json`, or `bytes` for the byte-level tokenizer.
        #[arg(long, default_value = "bytes")]
        tokenizer: String,
        /// End-of-document token of a Hugging Face tokenizer (default: the first of
        /// <|end_of_text|>, <|endoftext|>, </s>, <eos>, <|im_end|> it knows).
        #[arg(long)]
        eos_token: Option<String>,
        /// JSONL field holding the text.
        #[arg(long, default_value = "text")]
        text_field: String,
        /// Tokens per row.
        #[arg(long, default_value_t = 2048)]
        seq_len: u32,
        /// Rows per shard file.
        #[arg(long, default_value_t = 4096)]
        rows_per_shard: u32,
    },
    /// Check every shard of a dataset directory against its manifest (hash, size, vocabulary).
    Verify {
        /// The dataset directory.
        dir: PathBuf,
    },
}

impl DatasetCmd {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::Synth {
                out,
                rows,
                seq_len,
                vocab,
                seed,
                rows_per_shard,
            } => {
                let synth = Synth::new(SynthConfig {
                    vocab_size: vocab,
                    seq_len,
                    rows,
                    seed,
                    ..SynthConfig::default()
                });
                let m = synth.write(&out, rows_per_shard)?;
                println!(
                    "wrote {} rows of {} tokens in {} shards to {}",
                    m.total_rows,
                    m.seq_len,
                    m.shards.len(),
                    out.display()
                );
                Ok(())
            }
            Self::Build {
                input,
                out,
                tokenizer,
                eos_token,
                text_field,
                seq_len,
                rows_per_shard,
            } => {
                let tok = if tokenizer == "bytes" {
                    Tokenizer::Bytes
                } else {
                    Tokenizer::from_file(tokenizer.as_ref(), eos_token.as_deref())?
                };
                let r = build(&tok, &input, &text_field, &out, seq_len, rows_per_shard)?;
                println!(
                    "{} documents, {} tokens -> {} rows of {} in {} shards ({}); {} trailing \
                     tokens did not fill a row and were not written",
                    r.documents,
                    r.tokens,
                    r.manifest.total_rows,
                    r.manifest.seq_len,
                    r.manifest.shards.len(),
                    r.manifest.tokenizer,
                    r.dropped_tail_tokens
                );
                Ok(())
            }
            Self::Verify { dir } => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .context("starting the async runtime")?;
                rt.block_on(async {
                    let ds = Dataset::open_dir(&dir).await?;
                    ds.verify_all().await?;
                    let m = ds.manifest();
                    println!(
                        "ok: {} rows of {} tokens in {} shards, tokenizer {}, vocabulary {}",
                        m.total_rows,
                        m.seq_len,
                        m.shards.len(),
                        m.tokenizer,
                        m.vocab_size
                    );
                    Ok(())
                })
            }
        }
    }
}
