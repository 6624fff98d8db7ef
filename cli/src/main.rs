//! `kiln`: one binary for the kiln subnet.

mod cmd;
mod config;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// kiln: permissionless, decentralized LLM pre-training on a Substrate chain.
#[derive(Debug, Parser)]
#[command(name = "kiln", version, about, long_about = None)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `kiln=debug`.
    #[arg(long, global = true, env = "KILN_LOG", default_value = "warn")]
    log: String,
    /// Read the command's flags from this TOML file (keys are long flag names); command-line
    /// flags and environment variables take precedence over it.
    #[arg(long, global = true, env = "KILN_CONFIG", value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Load FILE as `--config` does (the gateway: its settings file), validate the command's
    /// configuration, print what it found and exit, starting nothing.
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "config")]
    check_config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole subnet on this machine: devnet, gateway, Postgres, a validator and miners.
    Up(Box<cmd::up::UpArgs>),
    /// Inspect artifacts (the bytes miners upload).
    #[command(subcommand)]
    Artifact(cmd::artifact::ArtifactCmd),
    /// Show, validate and hash run parameters.
    #[command(subcommand)]
    Hparams(cmd::hparams::HparamsCmd),
    /// Run a local subtensor-compatible chain (dev accounts funded, subnet 1 created).
    Devnet(cmd::devnet::DevnetArgs),
    /// Read a subnet and send operator transactions (register, commit, weights).
    Chain(cmd::chain::ChainArgs),
    /// The storage gateway: signed uploads and content-addressed downloads over HTTP.
    #[command(subcommand)]
    Gateway(cmd::gateway::GatewayCmd),
    /// Mine: train on the assigned rows each window, upload, commit the hash on chain.
    Miner(Box<cmd::miner::MinerArgs>),
    /// Validate: score every window, record it in Postgres, set weights, publish the aggregate.
    #[command(args_conflicts_with_subcommands = true)]
    Validator(Box<cmd::validator::ValidatorArgs>),
    /// Serve the validator's dashboard API from its database (e.g. a read replica).
    Api(Box<cmd::api::ApiArgs>),
    /// Create, list and inspect keys and Bittensor wallets.
    #[command(subcommand)]
    Keys(cmd::keys::KeysCmd),
    /// Make, tokenize and verify token-shard datasets.
    #[command(subcommand)]
    Dataset(cmd::dataset::DatasetCmd),
    /// Create model checkpoints and print their state hash.
    #[command(subcommand)]
    Model(cmd::model::ModelCmd),
    /// Benchmarks that print one figure per line.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCmd),
}

/// Under `kiln up` (which sets `KILN_EXIT_WITH_PARENT`), exit when stdin closes: the parent is
/// gone, however it went, and no component outlives it.
fn exit_with_parent() {
    if std::env::var_os("KILN_EXIT_WITH_PARENT").is_none() {
        return;
    }
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
        tracing::warn!("the parent process is gone: exiting");
        std::process::exit(1);
    });
}

/// `--check-config`: validates what the command would start with; names the command.
fn check_config(command: Command, path: &std::path::Path) -> anyhow::Result<&'static str> {
    match command {
        Command::Validator(a) => a.check().map(|()| "`kiln validator`"),
        Command::Miner(a) => a.check().map(|()| "`kiln miner`"),
        Command::Api(a) => a.check().map(|()| "`kiln api`"),
        Command::Gateway(c) => c.check(path).map(|()| "`kiln gateway`"),
        _ => anyhow::bail!("--check-config applies to validator, miner, api and gateway"),
    }
}

fn main() -> ExitCode {
    let cli: Cli = match config::parse() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // TLS (wss:// endpoints) uses rustls with the ring provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .init();
    exit_with_parent();
    if let Some(path) = &cli.check_config {
        return match check_config(cli.command, path) {
            Ok(what) => {
                println!("{}: a valid configuration for {what}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {}: {e:#}", path.display());
                ExitCode::FAILURE
            }
        };
    }
    let result = match cli.command {
        Command::Up(a) => a.run(),
        Command::Artifact(c) => c.run(),
        Command::Hparams(c) => c.run(),
        Command::Bench(c) => c.run(),
        Command::Dataset(c) => c.run(),
        Command::Devnet(a) => cmd::devnet::run(a),
        Command::Chain(a) => a.run(),
        Command::Keys(c) => c.run(),
        Command::Miner(a) => a.run(),
        Command::Validator(a) => a.run(),
        Command::Api(a) => a.run(),
        Command::Gateway(c) => c.run(),
        Command::Model(c) => c.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
