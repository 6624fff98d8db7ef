//! `kiln chain set-weights`: plain weights, or a timelocked commit where the subnet requires
//! timelocked commit-reveal, optionally followed until the chain reveals it.

use super::super::keys::KeyArgs;
use anyhow::{Context, Result, bail};
use clap::Args;
use kiln_runtime_client::keys::account;
use kiln_runtime_client::{BlockSel, Client, CommitReveal, RevealOutcome};

/// Arguments of `kiln chain set-weights`.
#[derive(Debug, Args)]
pub(super) struct SetWeightsArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// Comma-separated `uid:score` pairs; scores are scaled so the largest is 65535.
    #[arg(long, value_delimiter = ',', required = true)]
    weights: Vec<String>,
    /// Version key sent with the weights.
    #[arg(long, env = "KILN_WEIGHTS_VERSION_KEY", default_value_t = 0)]
    version_key: u64,
    /// On a timelocked commit-reveal subnet, follow blocks until the chain reveals the commit
    /// (or drops it) and exit non-zero unless it was revealed.
    #[arg(long)]
    wait_reveal: bool,
    /// Give up waiting this many blocks after the commit block (default: the predicted reveal
    /// block plus one tempo and 10 blocks of margin).
    #[arg(long, requires = "wait_reveal")]
    reveal_timeout_blocks: Option<u64>,
}

pub(super) async fn set_weights(client: &Client, netuid: u16, a: SetWeightsArgs) -> Result<()> {
    let scores = parse_scores(&a.weights)?;
    let hotkey = a.keys.hotkey()?;
    let params = client.hyperparams(netuid, BlockSel::Latest).await?;
    if !matches!(params.commit_reveal, CommitReveal::Timelocked { .. }) {
        if a.wait_reveal {
            bail!("--wait-reveal applies to subnets with timelocked commit-reveal only");
        }
        let included = client
            .set_weights(netuid, &hotkey, &scores, a.version_key)
            .await?;
        println!(
            "weights set in block {} ({:?})",
            included.block_number, included.block_hash
        );
        return Ok(());
    }
    let (commit, included) = client
        .commit_timelocked_weights(netuid, &hotkey, &scores, a.version_key)
        .await?;
    println!(
        "weights committed in block {} ({:?}), encrypted to drand round {}; the chain reveals \
         them from block {} (epoch {})",
        commit.commit_block,
        included.block_hash,
        commit.reveal_round,
        commit.reveal_block,
        commit.commit_epoch + reveal_period(params.commit_reveal),
    );
    if !a.wait_reveal {
        return Ok(());
    }
    let timeout = a.reveal_timeout_blocks.unwrap_or_else(|| {
        commit.reveal_block.saturating_sub(commit.commit_block) + u64::from(params.tempo) + 10
    });
    match client
        .wait_for_reveal(&account(&hotkey), &commit, timeout)
        .await?
    {
        RevealOutcome::Revealed { block } => {
            println!("weights revealed in block {block}");
            Ok(())
        }
        RevealOutcome::Dropped {
            block,
            pulse_on_chain: false,
        } => bail!(
            "the commit expired at block {block}: drand round {} did not reach the chain during \
             the reveal epoch",
            commit.reveal_round
        ),
        RevealOutcome::Dropped { block, .. } => bail!(
            "the chain dropped the commit at block {block} without applying it (the weights \
             failed its checks at the reveal, or the commit did not decrypt)"
        ),
        RevealOutcome::Pending { block } => {
            bail!("not revealed by block {block}; still pending (`kiln chain` reads it back later)")
        }
    }
}

fn reveal_period(mode: CommitReveal) -> u64 {
    match mode {
        CommitReveal::Timelocked { period, .. } | CommitReveal::Hash { period } => period.max(1),
        CommitReveal::Off => 1,
    }
}

fn parse_scores(pairs: &[String]) -> Result<Vec<(u16, f64)>> {
    pairs
        .iter()
        .map(|p| {
            let (uid, score) = p
                .split_once(':')
                .with_context(|| format!("`{p}` is not uid:score"))?;
            Ok((
                uid.trim()
                    .parse()
                    .with_context(|| format!("bad uid in `{p}`"))?,
                score
                    .trim()
                    .parse()
                    .with_context(|| format!("bad score in `{p}`"))?,
            ))
        })
        .collect()
}
