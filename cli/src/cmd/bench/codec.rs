//! `kiln bench codec`: SparseLoCo encode / decode / aggregate throughput and message size.

use super::data::{self, Spec};
use super::median;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use kiln_protocol::artifact::{Artifact, ArtifactHeader, DecodeOptions};
use kiln_protocol::codec::{
    ErrorFeedback, Geometry, PeerMean, SparseTensor, TensorSpec, aggregate, compress_with,
};
use rayon::prelude::*;
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Set {
    /// The 17,042,432-element reference set (one LLaMA layer at width 1024 + embedding).
    S17m,
    /// LLaMA-shaped layers up to `--elements`.
    Llama,
    /// A 0.3M-element set for smoke tests.
    Tiny,
}

/// Arguments of `kiln bench codec`.
#[derive(Debug, Args)]
pub(crate) struct CodecArgs {
    /// Tensor set; `--elements` selects `llama` unless `--set` says otherwise.
    #[arg(long, value_enum)]
    set: Option<Set>,
    /// Total elements of the `llama` set.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    elements: usize,
    /// Target chunk side.
    #[arg(long, default_value_t = 64)]
    chunk: u32,
    /// Values kept per chunk.
    #[arg(long, default_value_t = 64)]
    topk: u32,
    /// Peers in the aggregation benchmark.
    #[arg(long, default_value_t = 20)]
    peers: usize,
    /// Timed runs per figure (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Worker threads (default: all cores).
    #[arg(long, env = "KILN_BENCH_THREADS")]
    threads: Option<usize>,
    /// Print one JSON object instead of `name value` lines.
    #[arg(long)]
    json: bool,
}

struct Figures(Vec<(&'static str, serde_json::Value)>);

impl Figures {
    fn put(&mut self, name: &'static str, v: impl Into<serde_json::Value>) {
        self.0.push((name, v.into()));
    }
}

pub(crate) fn run(args: CodecArgs) -> Result<()> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        pool = pool.num_threads(t);
    }
    let pool = pool.build().context("building the thread pool")?;
    pool.install(|| bench(&args))
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = f(); // warm-up
    let mut secs = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        out = f();
        secs.push(t.elapsed().as_secs_f64());
    }
    (median(secs), out)
}

fn bench(args: &CodecArgs) -> Result<()> {
    let set = args.set.unwrap_or(if args.elements == 16 * 1024 * 1024 {
        Set::S17m
    } else {
        Set::Llama
    });
    let specs: Vec<Spec> = match set {
        Set::S17m => data::s17m(),
        Set::Llama => data::llama(args.elements),
        Set::Tiny => data::tiny(),
    };
    let layout: Vec<(String, Geometry)> = specs
        .iter()
        .map(|s| {
            Ok((
                s.name.clone(),
                Geometry::for_shape(&s.shape, args.chunk, args.topk)?,
            ))
        })
        .collect::<Result<_, kiln_protocol::codec::GeometryError>>()?;
    let elements: usize = specs.iter().map(Spec::elements).sum();
    let dense_bytes = (elements * 4) as f64;
    let inputs: Vec<Vec<f32>> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| data::gaussians(i as u64, s.elements(), 1.0))
        .collect();
    let header = ArtifactHeader {
        netuid: 1,
        uid: 0,
        hotkey: [1; 32],
        window: 0,
        base_model_hash: [2; 32],
        hparams_hash: [3; 32],
    };

    let encode = || -> Result<Vec<u8>> {
        let tensors = layout
            .par_iter()
            .zip(inputs.par_iter())
            .map(|((name, g), x)| compress_with(name, *g, x))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Artifact { header, tensors }.encode()?)
    };
    let (encode_s, bytes) = time(args.runs, encode);
    let bytes = bytes?;

    let mut ef = ErrorFeedback::new(
        layout
            .iter()
            .map(|(name, g)| TensorSpec {
                name: name.clone(),
                geometry: *g,
            })
            .collect(),
        0.95,
    );
    let deltas: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
    let (step_s, step) = time(args.runs, || -> Result<usize> {
        let tensors = ef.step(&deltas)?;
        Ok(Artifact { header, tensors }.encode()?.len())
    });
    step?;

    let opts = DecodeOptions::default();
    let (decode_s, decoded) = time(args.runs, || -> Result<Vec<Vec<f32>>> {
        let a = Artifact::decode(&bytes, &opts)?;
        Ok(a.tensors.par_iter().map(SparseTensor::to_dense).collect())
    });
    let decoded = decoded?;

    let artifact = Artifact::decode(&bytes, &opts)?;
    let kept: u64 = artifact.tensors.iter().map(|t| t.geometry.kept()).sum();
    let (mut err2, mut ref2) = (0f64, 0f64);
    for ((t, x), y) in artifact.tensors.iter().zip(&inputs).zip(&decoded) {
        for (j, &p) in t.indices.iter().enumerate() {
            let flat = t.geometry.flat_index(j / t.geometry.k(), usize::from(p));
            err2 += f64::from(x[flat] - y[flat]).powi(2);
            ref2 += f64::from(x[flat]).powi(2);
        }
    }

    // Peers: independent pseudo-gradients, compressed once; only aggregation is timed.
    let peers: Vec<Vec<SparseTensor>> = (0..args.peers)
        .map(|p| {
            layout
                .iter()
                .zip(&specs)
                .enumerate()
                .map(|(i, ((name, g), s))| {
                    let x = data::gaussians(
                        ((p as u64 + 1) << 32) | i as u64,
                        s.elements(),
                        1.0 + p as f32 / 10.0,
                    );
                    compress_with(name, *g, &x)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<_, _>>()?;
    let peer_refs: Vec<&[SparseTensor]> = peers.iter().map(Vec::as_slice).collect();
    let (agg_s, agg) = time(args.runs.min(3), || {
        aggregate(&layout, &peer_refs, PeerMean::Selecting)
    });
    agg?;

    let gbps = |s: f64| dense_bytes / s / 1e9;
    let mut f = Figures(Vec::new());
    f.put("set", format!("{set:?}").to_lowercase());
    f.put("elements", elements);
    f.put("tensors", specs.len());
    f.put("threads", rayon::current_num_threads());
    f.put("artifact_bytes", bytes.len());
    f.put("kept_values", kept);
    f.put(
        "compression_ratio_vs_fp32",
        round(dense_bytes / bytes.len() as f64, 2),
    );
    f.put(
        "bits_per_kept_value",
        round(bytes.len() as f64 * 8.0 / kept as f64, 3),
    );
    f.put("kept_value_rel_rmse", round((err2 / ref2).sqrt(), 4));
    f.put("encode_ms", round(encode_s * 1e3, 1));
    f.put("encode_gbps", round(gbps(encode_s), 3));
    f.put("miner_step_ms", round(step_s * 1e3, 1));
    f.put("miner_step_gbps", round(gbps(step_s), 3));
    f.put("decode_ms", round(decode_s * 1e3, 1));
    f.put("decode_gbps", round(gbps(decode_s), 3));
    f.put("aggregate_peers", args.peers);
    f.put("aggregate_ms", round(agg_s * 1e3, 1));
    f.put("aggregate_gbps", round(gbps(agg_s) * args.peers as f64, 3));
    if args.json {
        let obj: serde_json::Map<String, serde_json::Value> =
            f.0.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        println!("{}", serde_json::Value::Object(obj));
    } else {
        for (k, v) in f.0 {
            match v {
                serde_json::Value::String(s) => println!("{k} {s}"),
                v => println!("{k} {v}"),
            }
        }
    }
    Ok(())
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}
