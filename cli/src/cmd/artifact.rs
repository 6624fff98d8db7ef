//! `kiln artifact inspect`: decode an artifact and summarise it, or print the decoder's error.

use super::hparams::hex;
use anyhow::{Context, Result};
use clap::Subcommand;
use kiln_protocol::artifact::{self, Artifact, ArtifactHeader, DecodeOptions, Expect};
use kiln_protocol::codec::compress;
use serde_json::json;
use std::path::PathBuf;

/// `kiln artifact ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ArtifactCmd {
    /// Decode FILE and print its header and a per-tensor summary; exit non-zero if invalid.
    Inspect {
        /// The artifact file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Reject artifacts larger than this many bytes.
        #[arg(long, env = "KILN_MAX_ARTIFACT_BYTES", default_value_t = artifact::DEFAULT_MAX_LEN)]
        max_bytes: usize,
        /// Require the canonical geometry for this chunk side (with --expect-topk).
        #[arg(long, requires = "expect_topk")]
        expect_chunk: Option<u32>,
        /// Require the canonical k for this top-k (with --expect-chunk).
        #[arg(long, requires = "expect_chunk")]
        expect_topk: Option<u32>,
    },
    /// Write a synthetic artifact (random pseudo-gradients, compressed) to FILE.
    Synth {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Tensor shapes, e.g. `256x128,128` (1-D or 2-D each).
        #[arg(long, default_value = "256x128,128")]
        shapes: String,
        /// Target chunk side.
        #[arg(long, default_value_t = 64)]
        chunk: u32,
        /// Values kept per chunk.
        #[arg(long, default_value_t = 64)]
        topk: u32,
        /// Seed for the values.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Window written into the header.
        #[arg(long, default_value_t = 0)]
        window: u64,
    },
}

impl ArtifactCmd {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::Inspect {
                file,
                json,
                max_bytes,
                expect_chunk,
                expect_topk,
            } => inspect(file, json, max_bytes, expect_chunk.zip(expect_topk)),
            Self::Synth {
                out,
                shapes,
                chunk,
                topk,
                seed,
                window,
            } => synth(&out, &shapes, chunk, topk, seed, window),
        }
    }
}

fn synth(out: &PathBuf, shapes: &str, chunk: u32, topk: u32, seed: u64, window: u64) -> Result<()> {
    let mut tensors = Vec::new();
    for (i, s) in shapes.split(',').enumerate() {
        let shape: Vec<usize> = s
            .split('x')
            .map(|d| {
                d.trim()
                    .parse::<usize>()
                    .with_context(|| format!("bad dimension {d:?} in {s:?}"))
            })
            .collect::<Result<_>>()?;
        let n: usize = shape.iter().product();
        let values =
            super::bench::gaussians(seed.wrapping_mul(1000).wrapping_add(i as u64), n, 1e-3);
        tensors.push(compress(
            &format!("tensor.{i}.weight"),
            &shape,
            &values,
            chunk,
            topk,
        )?);
    }
    let header = ArtifactHeader {
        netuid: 1,
        uid: 0,
        hotkey: [0; 32],
        window,
        base_model_hash: [0; 32],
        hparams_hash: [0; 32],
    };
    let bytes = Artifact { header, tensors }.encode()?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} ({} bytes, blake3 {})",
        out.display(),
        bytes.len(),
        hex(&artifact::digest(&bytes))
    );
    Ok(())
}

fn inspect(file: PathBuf, json: bool, max_bytes: usize, expect: Option<(u32, u32)>) -> Result<()> {
    let meta = std::fs::metadata(&file).with_context(|| format!("reading {}", file.display()))?;
    anyhow::ensure!(
        meta.len() <= max_bytes as u64,
        "{}: {} bytes, over the limit of {max_bytes}",
        file.display(),
        meta.len()
    );
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let expect = expect.map(|(chunk, topk)| Expect { chunk, topk });
    let a = Artifact::decode(
        &bytes,
        &DecodeOptions {
            max_len: max_bytes,
            expect,
        },
    )
    .with_context(|| format!("{} is not a valid artifact", file.display()))?;
    let digest = hex(&artifact::digest(&bytes));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&a, &digest, bytes.len()))?
        );
    } else {
        print_text(&a, &digest, bytes.len());
    }
    Ok(())
}

fn to_json(a: &Artifact, digest: &str, len: usize) -> serde_json::Value {
    let h = &a.header;
    json!({
        "blake3": digest,
        "bytes": len,
        "header": {
            "netuid": h.netuid, "uid": h.uid, "hotkey": hex(&h.hotkey), "window": h.window,
            "base_model_hash": hex(&h.base_model_hash), "hparams_hash": hex(&h.hparams_hash),
        },
        "tensors": a.tensors.iter().map(|t| json!({
            "name": t.name,
            "shape": t.geometry.dims(),
            "chunk": t.geometry.chunk_sides(),
            "k": t.geometry.k(),
            "kept": t.geometry.kept(),
            "codebook": t.codebook.levels(),
            "norm": t.norm(),
            "index_bytes": artifact::index_section_len(&t.geometry),
            "value_bytes": artifact::value_section_len(&t.geometry),
        })).collect::<Vec<_>>(),
    })
}

fn print_text(a: &Artifact, digest: &str, len: usize) {
    let h = &a.header;
    println!("blake3           {digest}");
    println!("bytes            {len}");
    println!("netuid           {}", h.netuid);
    println!("uid              {}", h.uid);
    println!("hotkey           {}", hex(&h.hotkey));
    println!("window           {}", h.window);
    println!("base_model_hash  {}", hex(&h.base_model_hash));
    println!("hparams_hash     {}", hex(&h.hparams_hash));
    println!("tensors          {}", a.tensors.len());
    let elements: u64 = a.tensors.iter().map(|t| t.geometry.elements()).sum();
    let kept: u64 = a.tensors.iter().map(|t| t.geometry.kept()).sum();
    println!(
        "elements         {elements} ({kept} kept, ratio vs fp32 {:.1})",
        (elements * 4) as f64 / len as f64
    );
    println!();
    println!(
        "{:<40} {:>14} {:>8} {:>5} {:>9} {:>11}  codebook",
        "name", "shape", "chunk", "k", "kept", "norm"
    );
    for t in &a.tensors {
        let g = &t.geometry;
        let join = |v: Vec<u32>| v.iter().map(u32::to_string).collect::<Vec<_>>().join("x");
        let cb: Vec<String> = t
            .codebook
            .levels()
            .iter()
            .map(|v| format!("{v:.3e}"))
            .collect();
        println!(
            "{:<40} {:>14} {:>8} {:>5} {:>9} {:>11.4e}  [{}]",
            t.name,
            join(g.dims()),
            join(g.chunk_sides()),
            g.k(),
            g.kept(),
            t.norm(),
            cb.join(", ")
        );
    }
}
