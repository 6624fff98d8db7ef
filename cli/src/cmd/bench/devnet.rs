//! `kiln bench devnet`: devnet start-up time and block throughput with one signed transfer per
//! block (what `--instant` mode does per transaction).

use super::median;
use anyhow::{Result, bail};
use clap::Args;
use codec::Encode;
use kiln_devnet::{Chain, NodeConfig, spawn};
use kiln_devnet_runtime::{RuntimeCall, dev};
use sp_runtime::MultiAddress;
use std::time::Instant;

/// Arguments of `kiln bench devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// Blocks to author.
    #[arg(long, default_value_t = 200)]
    blocks: u32,
    /// Timed node start-ups (the median is reported).
    #[arg(long, default_value_t = 5)]
    starts: usize,
}

pub(crate) fn run(args: DevnetArgs) -> Result<()> {
    if args.blocks == 0 || args.starts == 0 {
        bail!("--blocks and --starts must be at least 1");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut starts = Vec::with_capacity(args.starts);
    for _ in 0..args.starts {
        let t = Instant::now();
        let node = rt.block_on(spawn(NodeConfig {
            state_file: None,
            port: 0,
            block_time_ms: 250,
            instant: true,
            genesis: dev::genesis(vec![dev::fast_subnet(1, 10)]),
        }))?;
        starts.push(t.elapsed().as_secs_f64());
        drop(node);
    }

    let mut chain = Chain::new(&dev::genesis(vec![dev::fast_subnet(1, 10)]))?;
    chain.author(&[], 0)?;
    let (alice, _) = dev::key("//Alice");
    let (_, bob) = dev::key("//Bob");
    let t = Instant::now();
    for n in 0..args.blocks {
        let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
            dest: MultiAddress::Id(bob.clone()),
            value: 1_000,
        });
        let xt = chain.execute_at(chain.best().hash, || dev::signed(&alice, call, n).encode())?;
        let (_, outcomes) = chain.author(&[xt], u64::from(n + 1) * 250)?;
        if outcomes != [kiln_devnet::TxOutcome::Included] {
            bail!("transfer {n} was not included: {outcomes:?}");
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!("startup_ms {:.2}", median(starts) * 1e3);
    println!("blocks {}", args.blocks);
    println!("blocks_per_s {:.1}", f64::from(args.blocks) / secs);
    println!("ms_per_block {:.3}", secs * 1e3 / f64::from(args.blocks));
    Ok(())
}
