//! `kiln devnet`: a local subtensor-compatible chain on 127.0.0.1.

use anyhow::{Context, Result};
use clap::Args;
use kiln_devnet::{NodeConfig, spawn_with_beacon};
use kiln_devnet_runtime::dev;
use std::path::PathBuf;

/// Arguments of `kiln devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// JSON-RPC port on 127.0.0.1 (WebSocket and HTTP); 0 picks a free one.
    #[arg(long, env = "KILN_DEVNET_PORT", default_value_t = 9944)]
    port: u16,
    /// Milliseconds between blocks.
    #[arg(long, env = "KILN_BLOCK_TIME_MS", default_value_t = 250)]
    block_time_ms: u64,
    /// Author a block as soon as a transaction arrives, instead of on the timer.
    #[arg(long)]
    instant: bool,
    /// Netuid of the subnet created at genesis (owner coldkey //Alice, owner hotkey //Ferdie).
    #[arg(long, default_value_t = 1)]
    netuid: u16,
    /// Tempo (blocks per epoch) of that subnet.
    #[arg(long, default_value_t = 10)]
    tempo: u16,
    /// Commit-reveal on the genesis subnet (on by default, as on finney: validators commit
    /// weights timelocked to the devnet beacon, version 4); `--commit-reveal false` for plain
    /// `set_weights`.
    #[arg(long, env = "KILN_DEVNET_COMMIT_REVEAL", default_value_t = true, action = clap::ArgAction::Set)]
    commit_reveal: bool,
    /// Seed of the devnet's drand beacon key. The default seed is public, like `//Alice`, so
    /// anyone can open timelocked commits early; pass a secret seed to keep them sealed.
    #[arg(long, env = "KILN_DEVNET_BEACON_SEED")]
    beacon_seed: Option<String>,
    /// Resume the chain from this file when it exists, and save it there every 2 s while
    /// blocks are authored and when the node stops.
    #[arg(long, env = "KILN_DEVNET_STATE_FILE")]
    state_file: Option<PathBuf>,
}

pub(crate) fn run(args: DevnetArgs) -> Result<()> {
    super::block_on(async {
        let beacon = args
            .beacon_seed
            .as_deref()
            .map_or_else(dev::beacon, |s| kiln_drand::Beacon::from_seed(s.as_bytes()));
        let subnet = kiln_devnet_runtime::subtensor::GenesisSubnet {
            commit_reveal: args.commit_reveal,
            ..dev::fast_subnet(args.netuid, args.tempo)
        };
        let mut genesis = dev::genesis_with_beacon(vec![subnet], &beacon);
        genesis.aura.slot_duration_ms = args.block_time_ms;
        let node = spawn_with_beacon(
            NodeConfig {
                port: args.port,
                block_time_ms: args.block_time_ms,
                instant: args.instant,
                genesis,
                state_file: args.state_file.clone(),
            },
            beacon,
        )
        .await?;
        if let Some(path) = &args.state_file {
            let best = node.shared().chain().best().header.number;
            println!(
                "kiln devnet state file {} (best block {best})",
                path.display()
            );
        }
        println!("kiln devnet listening on {}", node.ws_url());
        tokio::signal::ctrl_c()
            .await
            .context("waiting for ctrl-c")?;
        node.stop().context("saving the chain")?;
        Ok(())
    })
}
