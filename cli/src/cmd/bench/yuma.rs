//! `kiln bench yuma`: time of one Yuma epoch on a synthetic subnet.

use super::median;
use anyhow::{Result, bail};
use clap::Args;
use kiln_yuma::{EpochInput, Params, epoch};
use std::time::Instant;

/// Arguments of `kiln bench yuma`.
#[derive(Debug, Args)]
pub(crate) struct YumaArgs {
    /// Uids in the subnet.
    #[arg(long, default_value_t = 256)]
    uids: u16,
    /// Validators (the first uids, with stake); each weights every other uid.
    #[arg(long, default_value_t = 64)]
    validators: u16,
    /// Timed epochs (the median is reported).
    #[arg(long, default_value_t = 20)]
    runs: usize,
}

pub(crate) fn run(args: YumaArgs) -> Result<()> {
    let (n, v) = (usize::from(args.uids), usize::from(args.validators));
    if v == 0 || v > n || args.runs == 0 {
        bail!("need 1 <= --validators <= --uids and --runs >= 1");
    }
    let stake: Vec<u64> = (0..n)
        .map(|i| if i < v { 1_000 + i as u64 } else { 0 })
        .collect();
    // Validator i weights uid j with a deterministic spread, so consensus and clipping do work.
    let weights: Vec<Vec<(u16, u16)>> = (0..n)
        .map(|i| {
            if i >= v {
                return Vec::new();
            }
            (0..n as u16)
                .filter(|&j| usize::from(j) != i)
                .map(|j| {
                    (
                        j,
                        (((i * 7919 + usize::from(j) * 104_729) % 65_535) + 1) as u16,
                    )
                })
                .collect()
        })
        .collect();
    let mut bonds = vec![Vec::new(); n];
    let mut permit = vec![false; n];
    let (last_update, reg) = (vec![10u64; n], vec![0u64; n]);
    let params = Params {
        tempo: 10,
        max_allowed_validators: args.validators,
        ..Params::default()
    };
    let mut times = Vec::with_capacity(args.runs);
    for r in 0..=args.runs {
        let input = EpochInput {
            block: 20 + r as u64,
            params,
            stake: &stake,
            last_update: &last_update,
            block_at_registration: &reg,
            validator_permit: &permit,
            weights: &weights,
            bonds: &bonds,
            owner: None,
            last_epoch_block: None,
            commit_blocks: None,
            emission: 1_000_000_000,
        };
        let t = Instant::now();
        let out = epoch(&input)?;
        let elapsed = t.elapsed().as_secs_f64();
        if r > 0 {
            times.push(elapsed);
        }
        bonds = out.bonds;
        permit = out.validator_permit;
    }
    let entries: usize = weights.iter().map(Vec::len).sum();
    println!("uids {n}");
    println!("validators {v}");
    println!("weight_entries {entries}");
    println!("epoch_ms {:.3}", median(times) * 1e3);
    Ok(())
}
