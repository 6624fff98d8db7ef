//! `kiln bench train`: forward-only evaluation and training-step throughput of the model presets.

use super::median;
use anyhow::{Result, bail};
use clap::Args;
use kiln_protocol::Hparams;
use kiln_training::data::{Synth, SynthConfig};
use kiln_training::{
    AdamW, DeviceSpec, InnerConfig, Model, ModelConfig, Precision, mean_loss, train_inner,
};
use std::time::Instant;

/// Arguments of `kiln bench train`.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// Model presets to measure (tiny, small, 1b, 8b, 72b).
    #[arg(long, value_delimiter = ',', default_value = "tiny,small")]
    presets: Vec<String>,
    /// Device: cpu or cuda:N (needs a `cuda` build).
    #[arg(long, env = "KILN_DEVICE", default_value = "cpu")]
    device: String,
    /// Matrix-product precision: f32 or bf16 (default: f32 on the CPU, bf16 on a GPU).
    #[arg(long)]
    precision: Option<String>,
    /// Rows per batch.
    #[arg(long, default_value_t = 8)]
    batch_rows: usize,
    /// Tokens per row (default: 64 for tiny, 256 otherwise).
    #[arg(long)]
    seq_len: Option<usize>,
    /// Optimizer steps per timed inner loop.
    #[arg(long, default_value_t = 4)]
    steps: usize,
    /// Timed runs per figure (the median is reported), after one untimed warm-up run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Peak dense TFLOP/s of the device for the MFU column (default on a GPU: 989, an H100's
    /// dense bf16 peak; MFU is not shown on the CPU unless this is given).
    #[arg(long, env = "KILN_PEAK_TFLOPS")]
    peak_tflops: Option<f64>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

struct Row {
    preset: String,
    params: u64,
    mode: &'static str,
    tokens: usize,
    seconds: f64,
    flops: f64,
}

pub(crate) fn run(args: TrainArgs) -> Result<()> {
    let spec: DeviceSpec = args.device.parse()?;
    let device = spec.open()?;
    let gpu = spec != DeviceSpec::Cpu;
    let precision = match args.precision.as_deref() {
        None if gpu => Precision::Bf16,
        None | Some("f32") => Precision::F32,
        Some("bf16") => Precision::Bf16,
        Some(other) => bail!("unknown precision {other:?} (f32 or bf16)"),
    };
    let peak = args.peak_tflops.or(gpu.then_some(989.0));
    if args.batch_rows == 0 || args.steps == 0 || args.runs == 0 {
        bail!("--batch-rows, --steps and --runs must be at least 1");
    }
    let mut rows = Vec::new();
    for preset in &args.presets {
        let config = ModelConfig::preset(preset)?;
        let seq = args
            .seq_len
            .unwrap_or(if preset == "tiny" { 64 } else { 256 });
        let mut model = Model::init(&config, 0, &device)?;
        model.set_precision(precision);
        let synth = Synth::new(SynthConfig {
            vocab_size: config.vocab_size as u32,
            seq_len: seq as u32,
            ..SynthConfig::default()
        });
        let b = args.batch_rows;
        let tokens: Vec<u32> = (0..(b * args.steps) as u64)
            .flat_map(|r| synth.row(r))
            .collect();
        let per_token = config.forward_flops_per_token(seq);

        let eval_tokens = &tokens[..b * seq];
        let eval = time(args.runs, || {
            mean_loss(&model, eval_tokens, seq, b)?;
            Ok(())
        })?;
        rows.push(Row {
            preset: preset.clone(),
            params: config.parameter_count(),
            mode: "eval",
            tokens: b * seq,
            seconds: eval,
            flops: per_token * (b * seq) as f64,
        });

        let hp = Hparams::tiny();
        let inner = InnerConfig {
            steps: args.steps,
            batch_rows: b,
            micro_batch_rows: b,
            ..InnerConfig::from_hparams(&hp, 1_000)
        };
        let mut opt = AdamW::new(&model, inner.adamw)?;
        let train = time(args.runs, || {
            train_inner(&model, &mut opt, &tokens, seq, 100, &inner)?;
            Ok(())
        })?;
        let n = args.steps * b * seq;
        rows.push(Row {
            preset: preset.clone(),
            params: config.parameter_count(),
            mode: "train",
            tokens: n,
            seconds: train,
            flops: 3.0 * per_token * n as f64,
        });
    }
    print(&rows, &args, spec, precision, peak);
    Ok(())
}

fn time(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut xs = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        xs.push(t.elapsed().as_secs_f64());
    }
    Ok(median(xs))
}

fn print(
    rows: &[Row],
    args: &TrainArgs,
    spec: DeviceSpec,
    precision: Precision,
    peak: Option<f64>,
) {
    let mfu = |r: &Row| peak.map(|p| r.flops / r.seconds / (p * 1e12));
    if args.json {
        for r in rows {
            let v = serde_json::json!({
                "preset": r.preset, "parameters": r.params, "device": spec.to_string(),
                "precision": format!("{precision:?}").to_lowercase(), "mode": r.mode,
                "tokens": r.tokens, "seconds": r.seconds,
                "tokens_per_s": r.tokens as f64 / r.seconds, "mfu": mfu(r),
            });
            println!("{v}");
        }
        return;
    }
    println!(
        "{:<6} {:>12} {:<7} {:<5} {:<6} {:>8} {:>12} {:>10} {:>7}",
        "preset", "parameters", "device", "prec", "mode", "tokens", "tokens/s", "ms", "MFU"
    );
    for r in rows {
        let m = mfu(r).map_or("-".to_string(), |m| format!("{:.1}%", m * 100.0));
        println!(
            "{:<6} {:>12} {:<7} {:<5} {:<6} {:>8} {:>12.0} {:>10.1} {:>7}",
            r.preset,
            r.params,
            spec.to_string(),
            format!("{precision:?}").to_lowercase(),
            r.mode,
            r.tokens,
            r.tokens as f64 / r.seconds,
            r.seconds * 1e3,
            m
        );
    }
}
