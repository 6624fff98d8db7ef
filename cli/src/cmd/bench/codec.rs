//! `kiln bench codec`: SparseLoCo encode / decode / aggregate throughput and message size,
//! each throughput also as a fraction of a streaming read of the same buffer (the memory
//! bandwidth the same threads reach in the same run).

use super::data::{self, Spec};
use super::median;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use kiln_protocol::artifact::{Artifact, ArtifactHeader, DecodeOptions};
use kiln_protocol::codec::{
    ErrorFeedback, Geometry, PeerMean, SparseTensor, TensorSpec, aggregate_into, compress_with,
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

pub(crate) fn run(args: CodecArgs) -> Result<()> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        pool = pool.num_threads(t);
    }
    let pool = pool.build().context("building the thread pool")?;
    pool.install(|| bench(&args))
}

/// Timings of one figure: the median and the spread of the runs.
struct Timing {
    median: f64,
    /// (slowest − fastest) ÷ median.
    spread: f64,
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Timing, T) {
    let mut out = f(); // warm-up
    let mut secs = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        out = f();
        secs.push(t.elapsed().as_secs_f64());
    }
    let (lo, hi) = secs
        .iter()
        .fold((f64::INFINITY, 0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    let median = median(secs);
    let spread = (hi - lo) / median;
    (Timing { median, spread }, out)
}

/// Reads every value once, in parallel blocks (a sum of the raw bits, which vectorizes, so
/// the loop runs at the memory's pace).
fn stream_read(inputs: &[Vec<f32>]) -> u32 {
    inputs
        .par_iter()
        .flat_map(|v| v.par_chunks(1 << 16))
        .map(|c| c.iter().fold(0u32, |a, x| a.wrapping_add(x.to_bits())))
        .reduce(|| 0, u32::wrapping_add)
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
    let (stream_t, _) = time(args.runs, || stream_read(&inputs));
    let (encode_t, bytes) = time(args.runs, encode);
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
    let (step_t, step) = time(args.runs, || -> Result<usize> {
        let tensors = ef.step(&deltas)?;
        Ok(Artifact { header, tensors }.encode()?.len())
    });
    step?;

    // Decode into buffers the caller owns and reuses (faulted in once, here).
    let opts = DecodeOptions::default();
    let mut decoded: Vec<Vec<f32>> = inputs.iter().map(|x| vec![0f32; x.len()]).collect();
    let (decode_t, done) = time(args.runs, || -> Result<()> {
        let a = Artifact::decode(&bytes, &opts)?;
        a.tensors
            .par_iter()
            .zip(decoded.par_iter_mut())
            .for_each(|(t, out)| t.dense_into(out));
        Ok(())
    });
    done?;

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
    let mut outs: Vec<Vec<f32>> = Vec::new();
    let (agg_t, agg) = time(args.runs, || {
        aggregate_into(&layout, &peer_refs, PeerMean::Selecting, &mut outs)
    });
    agg?;

    let gbps = |s: f64| dense_bytes / s / 1e9;
    let stream = gbps(stream_t.median);
    let mut f = super::Figures::default();
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
    f.put("stream_read_ms", round(stream_t.median * 1e3, 2));
    f.put("stream_read_gbps", round(stream, 2));
    f.put("stream_read_spread", round(stream_t.spread, 3));
    let peers = args.peers as f64;
    for (name, t, scale) in [
        ("encode", &encode_t, 1.0),
        ("miner_step", &step_t, 1.0),
        ("decode", &decode_t, 1.0),
        ("aggregate", &agg_t, peers),
    ] {
        let g = gbps(t.median) * scale;
        f.put(format!("{name}_ms"), round(t.median * 1e3, 2));
        f.put(format!("{name}_gbps"), round(g, 3));
        f.put(format!("{name}_of_stream_read"), round(g / stream, 3));
        f.put(format!("{name}_spread"), round(t.spread, 3));
    }
    f.put("aggregate_peers", args.peers);
    f.print(args.json);
    Ok(())
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}
