//! `kiln bench convergence`: does the network train, and how much of its compute turns into
//! progress? Every arm trains the same genesis model on the same data and is measured on the
//! same held-out rows after each window; see [`arms`] for the arms and [`figures`] for the
//! summary figures.

mod arms;
mod figures;
mod plot;

use anyhow::{Result, bail};
use arms::{Arm, ArmRun, Setup};
use clap::Args;
use kiln_training::data::{Synth, SynthConfig};
use kiln_training::{DeviceSpec, ModelConfig};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Arguments of `kiln bench convergence`.
#[derive(Debug, Args)]
pub(crate) struct ConvergenceArgs {
    /// Model and run-parameter preset: tiny or small.
    #[arg(long, default_value = "tiny")]
    preset: String,
    /// Run parameters from a TOML or JSON file instead of the preset's (the model stays the
    /// preset's).
    #[arg(long, env = "KILN_HPARAMS")]
    hparams: Option<PathBuf>,
    /// Honest miners (and DiLoCo workers; the data-parallel arm's batch multiple).
    #[arg(long, default_value_t = 4)]
    miners: u16,
    /// Windows per arm.
    #[arg(long, default_value_t = 24)]
    windows: u64,
    /// Seed of the model's initialization, the dataset and the miners' hotkeys.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// `cpu` or `cuda:N`.
    #[arg(long, env = "KILN_DEVICE", default_value = "cpu")]
    device: DeviceSpec,
    /// Arms to run (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    arms: Vec<Arm>,
    /// Held-out rows the loss is measured on (never assigned to a miner).
    #[arg(long, default_value_t = 128)]
    heldout_rows: u64,
    /// Rows of the synthetic corpus (the held-out rows included).
    #[arg(long, default_value_t = 16_384)]
    dataset_rows: u64,
    /// Where to write the loss-curve plot (SVG).
    #[arg(long, default_value = "convergence.svg")]
    plot: PathBuf,
    /// Print one JSON object last (after the table).
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: ConvergenceArgs) -> Result<()> {
    if a.miners == 0 || a.windows == 0 {
        bail!("--miners and --windows must be at least 1");
    }
    let hparams = match &a.hparams {
        Some(path) => crate::cmd::hparams::load(path)?,
        None => crate::cmd::hparams::preset(&a.preset)?,
    };
    let config = ModelConfig::preset(&a.preset)?;
    if a.heldout_rows == 0 || a.heldout_rows >= a.dataset_rows {
        bail!("--heldout-rows must be at least 1 and below --dataset-rows");
    }
    let synth = Synth::new(SynthConfig {
        vocab_size: config.vocab_size as u32,
        seq_len: hparams.data.seq_len,
        rows: a.dataset_rows,
        seed: a.seed,
        ..SynthConfig::default()
    });
    let train_rows = a.dataset_rows - a.heldout_rows;
    let heldout = (train_rows..a.dataset_rows)
        .flat_map(|r| synth.row(r))
        .collect();
    let setup = Setup {
        hparams,
        config,
        device: a.device.open()?,
        seed: a.seed,
        miners: a.miners,
        windows: a.windows,
        synth,
        train_rows,
        heldout,
    };
    let arms = if a.arms.is_empty() {
        Arm::ALL.to_vec()
    } else {
        let mut arms = a.arms.clone();
        arms.sort();
        arms.dedup();
        arms
    };
    let mut runs = Vec::new();
    for arm in arms {
        eprintln!("running {}", arm.name());
        runs.push(setup.run(arm)?);
    }
    print_table(&runs);
    let summary = summarize(&setup, &runs);
    for (k, v) in summary.as_object().into_iter().flatten() {
        println!("{k} {v}");
    }
    let title = format!(
        "{} preset, {} miners, seed {}: held-out loss per window",
        a.preset, a.miners, a.seed
    );
    plot::write_svg(&a.plot, &title, &runs)?;
    println!("plot {}", a.plot.display());
    if a.json {
        let curves: serde_json::Map<String, Value> = runs
            .iter()
            .map(|r| {
                let v = json!({
                    "loss": r.curve.loss,
                    "tokens": r.curve.tokens,
                    "honest_indicators": r.honest,
                    "random_data_indicators": r.random_data,
                    "excluded_from_aggregate": r.excluded,
                    "seconds": r.seconds,
                });
                (r.arm.name().to_owned(), v)
            })
            .collect();
        let mut out = summary;
        out["arms"] = Value::Object(curves);
        out["plot"] = json!(a.plot.display().to_string());
        println!("{out}");
    }
    Ok(())
}

fn print_table(runs: &[ArmRun]) {
    let mut header = format!("{:>6}", "window");
    for r in runs {
        header.push_str(&format!(" {:>14}", r.arm.name()));
    }
    println!("{header}");
    let windows = runs.iter().map(|r| r.curve.loss.len()).max().unwrap_or(0);
    for w in 0..windows {
        let mut line = format!("{w:>6}");
        for r in runs {
            match r.curve.loss.get(w) {
                Some(l) => line.push_str(&format!(" {l:>14.4}")),
                None => line.push_str(&format!(" {:>14}", "")),
            }
        }
        println!("{line}");
    }
}

fn summarize(setup: &Setup, runs: &[ArmRun]) -> Value {
    let get = |arm: Arm| runs.iter().find(|r| r.arm == arm);
    let h = &setup.hparams;
    let mut s = json!({
        "preset": h.name,
        "hparams_hash": hex::encode(h.hparams_hash()),
        "miners": setup.miners,
        "windows": setup.windows,
        "seed": setup.seed,
        "error_feedback_decay": h.compression.error_feedback_decay,
        "outer_lr": h.outer.lr,
        "outer_mean": h.outer.mean,
    });
    for r in runs {
        s[format!("final_loss_{}", r.arm.name().replace(['-', '+'], "_"))] =
            json!(round(r.curve.last()));
    }
    if let (Some(net), Some(single)) = (get(Arm::Network), get(Arm::Adamw1)) {
        s["progress_ratio_vs_adamw1"] =
            json!(round(figures::progress_ratio(&net.curve, &single.curve)));
    }
    if let (Some(net), Some(ddp)) = (get(Arm::Network), get(Arm::AdamwDdp)) {
        s["token_efficiency_vs_ddp"] = match figures::token_efficiency(&net.curve, &ddp.curve) {
            Some(e) => json!(round(e)),
            // adamw-ddp never reached the network's loss: more than 1.
            None => json!(">1"),
        };
    }
    if let (Some(net), Some(dil)) = (get(Arm::Network), get(Arm::Diloco)) {
        s["gap_to_diloco"] = json!(round(figures::gap_to(&net.curve, &dil.curve)));
    }
    if let Some(r) = get(Arm::NetworkRandom) {
        s["honest_pass_rate"] = json!(round(figures::share(&r.honest, 1)));
        s["random_data_fail_rate"] = json!(round(figures::share(&r.random_data, -1)));
    }
    if let Some(r) = get(Arm::Network) {
        s["honest_pass_rate_network"] = json!(round(figures::share(&r.honest, 1)));
    }
    s
}

fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}
