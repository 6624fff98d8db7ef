//! `kiln bench`: measurements printed one figure per line (`name value`), or as JSON.

mod api;
mod codec;
mod convergence;
mod data;
mod devnet;
mod flood;
mod gateway;
mod train;
mod validator;
mod yuma;

pub(crate) use data::gaussians;

use anyhow::Result;
use clap::Subcommand;

/// `kiln bench ...`
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCmd {
    /// Encode, decode and aggregate a transformer-shaped set of pseudo-gradients.
    Codec(codec::CodecArgs),
    /// Forward-only evaluation and training-step throughput (tokens/s, MFU on a GPU) of the
    /// model presets.
    Train(train::TrainArgs),
    /// Devnet start-up time and blocks per second with one signed transfer per block.
    Devnet(devnet::DevnetArgs),
    /// Upload and download MB/s through the storage gateway and directly to the same S3
    /// server (a SeaweedFS it starts, or `--s3-endpoint`); with `--flood N`, honest uploads
    /// under a flood of unwanted requests and the chain lookups the flood caused.
    Gateway(gateway::GatewayArgs),
    /// The validator's evaluation cost per miner and miners per second (the Gauntlet on
    /// updates trained by simulated miners).
    Validator(validator::ValidatorArgs),
    /// Held-out loss per window of the network against centralized baselines (one AdamW
    /// trainer, data-parallel AdamW, dense DiLoCo) and with a random-data miner; a loss-curve
    /// plot and the summary figures.
    Convergence(convergence::ConvergenceArgs),
    /// Time of one Yuma consensus epoch (default 256 uids, 64 validators).
    Yuma(yuma::YumaArgs),
    /// Requests per second and latency of the dashboard API over a scratch Postgres database
    /// (default 256 miners x 1,000 windows).
    Api(api::ApiArgs),
}

impl BenchCmd {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::Codec(args) => codec::run(args),
            Self::Train(args) => train::run(args),
            Self::Yuma(args) => yuma::run(args),
            Self::Devnet(args) => devnet::run(args),
            Self::Gateway(args) => gateway::run(args),
            Self::Validator(args) => validator::run(args),
            Self::Api(args) => api::run(args),
            Self::Convergence(args) => convergence::run(args),
        }
    }
}

/// Named figures in the order measured, printed as `name value` lines or one JSON object.
#[derive(Debug, Default)]
pub(crate) struct Figures(Vec<(String, serde_json::Value)>);

impl Figures {
    /// Adds a figure.
    pub(crate) fn put(&mut self, name: impl Into<String>, v: impl Into<serde_json::Value>) {
        self.0.push((name.into(), v.into()));
    }

    /// Prints every figure.
    pub(crate) fn print(self, json: bool) {
        if json {
            let obj: serde_json::Map<String, serde_json::Value> = self.0.into_iter().collect();
            println!("{}", serde_json::Value::Object(obj));
        } else {
            for (k, v) in self.0 {
                match v {
                    serde_json::Value::String(s) => println!("{k} {s}"),
                    v => println!("{k} {v}"),
                }
            }
        }
    }
}

/// Median of timings in seconds.
pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}
