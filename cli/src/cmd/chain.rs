//! `kiln chain`: operator commands against a subtensor-compatible chain.

mod weights;

use super::keys::KeyArgs;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_runtime_client::commitments::Field;
use kiln_runtime_client::keys::{account, parse_account};
use kiln_runtime_client::metagraph::proportion;
use kiln_runtime_client::{BlockSel, Client, ClientOptions, Network};
use serde_json::json;

/// `kiln chain [--chain …] [--netuid …] <command>`
#[derive(Debug, Args)]
pub(crate) struct ChainArgs {
    /// `finney`, `test`, `local` (ws://127.0.0.1:9944), or a ws:// / wss:// URL.
    #[arg(long, env = "KILN_CHAIN", default_value = "local")]
    chain: Network,
    /// The subnet.
    #[arg(long, env = "KILN_NETUID", default_value_t = 1)]
    netuid: u16,
    #[command(subcommand)]
    command: ChainCmd,
}

/// The chain subcommands.
#[derive(Debug, Subcommand)]
enum ChainCmd {
    /// Print the subnet's neurons.
    Metagraph(ReadArgs),
    /// Print every hotkey's commitment, decoding kiln commitments.
    Commitments(ReadArgs),
    /// Print the subnet's hyperparameters.
    Hyperparams(ReadArgs),
    /// Register a hotkey (burned registration, paid by the coldkey).
    Register {
        #[command(flatten)]
        keys: KeyArgs,
        /// Register this account instead of the key's hotkey (SS58 or 0x).
        #[arg(long)]
        hotkey_account: Option<String>,
    },
    /// Commit a kiln commitment (signed by the hotkey).
    Commit(CommitArgs),
    /// Stake TAO from the coldkey to the hotkey on the subnet.
    Stake {
        #[command(flatten)]
        keys: KeyArgs,
        /// Amount in TAO.
        #[arg(long)]
        amount: f64,
    },
    /// Announce the hotkey's axon (public IP and port) on the subnet.
    ServeAxon {
        #[command(flatten)]
        keys: KeyArgs,
        /// Public IPv4 or IPv6 address.
        #[arg(long)]
        ip: std::net::IpAddr,
        /// TCP port.
        #[arg(long)]
        port: u16,
        /// Software version reported with the axon.
        #[arg(long, default_value_t = 1)]
        version: u32,
    },
    /// Set weights from `uid:score` pairs (signed by the hotkey); on a subnet with timelocked
    /// commit-reveal, commit them encrypted to a drand round instead.
    SetWeights(weights::SetWeightsArgs),
}

/// Options shared by the read commands.
#[derive(Debug, Args)]
struct ReadArgs {
    /// Read at this block instead of the latest finalized one.
    #[arg(long)]
    block: Option<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

impl ReadArgs {
    fn sel(&self) -> BlockSel {
        self.block.map_or(BlockSel::Latest, BlockSel::Number)
    }
}

/// Arguments of `kiln chain commit`.
#[derive(Debug, Args)]
struct CommitArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// `artifact` (a miner's update) or `manifest` (a validator's aggregation manifest).
    #[arg(long, default_value = "artifact")]
    kind: String,
    /// The window the bytes belong to.
    #[arg(long)]
    window: u64,
    /// blake3 of the bytes (64 hex digits).
    #[arg(long)]
    blake3: String,
    /// Length of the bytes.
    #[arg(long)]
    bytes: u64,
    /// Where to fetch them (a storage endpoint id).
    #[arg(long)]
    locator: String,
}

impl ChainArgs {
    pub(crate) fn run(self) -> Result<()> {
        super::block_on(self.run_async())
    }

    async fn run_async(self) -> Result<()> {
        let client = Client::connect(self.chain.clone(), ClientOptions::default()).await?;
        let netuid = self.netuid;
        match self.command {
            ChainCmd::Metagraph(a) => metagraph(&client, netuid, &a).await,
            ChainCmd::Commitments(a) => commitments(&client, netuid, &a).await,
            ChainCmd::Hyperparams(a) => {
                let p = client.hyperparams(netuid, a.sel()).await?;
                println!(
                    "{}",
                    if a.json {
                        format!("{:#}", hyperparams_json(&p))
                    } else {
                        hyperparams_text(&p)
                    }
                );
                Ok(())
            }
            ChainCmd::Register {
                keys,
                hotkey_account,
            } => {
                let coldkey = keys.coldkey()?;
                let hotkey = match hotkey_account {
                    Some(text) => parse_account(&text)?,
                    None => account(&keys.hotkey()?),
                };
                let (uid, included) = client.burned_register(netuid, &coldkey, &hotkey).await?;
                println!(
                    "registered {hotkey} as uid {uid} on netuid {netuid} in block {}",
                    included.block_number
                );
                Ok(())
            }
            ChainCmd::Commit(a) => commit(&client, netuid, a).await,
            ChainCmd::Stake { keys, amount } => {
                if !(amount.is_finite() && amount > 0.0) {
                    bail!("--amount must be a positive number of TAO");
                }
                let rao = (amount * 1e9).round() as u64;
                let coldkey = keys.coldkey()?;
                let hotkey = account(&keys.hotkey()?);
                let included = client.add_stake(netuid, &coldkey, &hotkey, rao).await?;
                println!(
                    "staked {rao} rao to {hotkey} in block {}",
                    included.block_number
                );
                Ok(())
            }
            ChainCmd::ServeAxon {
                keys,
                ip,
                port,
                version,
            } => {
                let endpoint = kiln_runtime_client::AxonEndpoint {
                    ip,
                    port,
                    version,
                    protocol: 4,
                };
                let included = client
                    .serve_axon(netuid, &keys.hotkey()?, &endpoint)
                    .await?;
                println!("axon {ip}:{port} served in block {}", included.block_number);
                Ok(())
            }
            ChainCmd::SetWeights(a) => weights::set_weights(&client, netuid, a).await,
        }
    }
}

fn hyperparams_json(p: &kiln_runtime_client::Hyperparams) -> serde_json::Value {
    use kiln_runtime_client::CommitReveal;
    let (cr, version, period) = match p.commit_reveal {
        CommitReveal::Off => ("off", None, None),
        CommitReveal::Hash { period } => ("hash", None, Some(period)),
        CommitReveal::Timelocked { version, period } => ("timelocked", Some(version), Some(period)),
    };
    json!({
        "netuid": p.netuid, "exists": p.exists, "tempo": p.tempo, "n": p.n,
        "weights_rate_limit": p.weights_rate_limit, "min_allowed_weights": p.min_allowed_weights,
        "max_weights_limit": p.max_weights_limit, "weights_version_key": p.weights_version_key,
        "activity_cutoff": p.activity_cutoff, "max_allowed_uids": p.max_allowed_uids,
        "max_allowed_validators": p.max_allowed_validators, "burn": p.burn,
        "stake_threshold": p.stake_threshold, "commit_reveal": cr,
        "commit_reveal_version": version, "reveal_period_epochs": period,
    })
}

/// One `name  value` line per hyperparameter (`-` where it does not apply), by name.
fn hyperparams_text(p: &kiln_runtime_client::Hyperparams) -> String {
    let json = hyperparams_json(p);
    let Some(fields) = json.as_object() else {
        return json.to_string();
    };
    fields
        .iter()
        .map(|(name, v)| match v {
            serde_json::Value::Null => format!("{name:<24} -"),
            serde_json::Value::String(s) => format!("{name:<24} {s}"),
            other => format!("{name:<24} {other}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn metagraph(client: &Client, netuid: u16, a: &ReadArgs) -> Result<()> {
    let graph = client.metagraph(netuid, a.sel()).await?;
    if a.json {
        let neurons: Vec<_> = graph
            .neurons
            .iter()
            .map(|n| {
                json!({
                    "uid": n.uid, "hotkey": n.hotkey.to_string(), "coldkey": n.coldkey.to_string(),
                    "stake": n.stake, "validator_permit": n.validator_permit, "active": n.active,
                    "last_update": n.last_update, "registered_at": n.registered_at,
                    "incentive": proportion(n.incentive), "dividends": proportion(n.dividends),
                    "consensus": proportion(n.consensus), "validator_trust": proportion(n.validator_trust),
                    "emission": n.emission,
                    "axon": n.axon.map(|x| json!({"ip": x.ip.to_string(), "ip_type": x.ip_type, "port": x.port, "version": x.version})),
                })
            })
            .collect();
        let out = json!({"netuid": graph.netuid, "block": graph.block, "neurons": neurons});
        println!("{out:#}");
        return Ok(());
    }
    println!("netuid {} at block {}", graph.netuid, graph.block);
    println!(
        "{:>4}  {:<48}  {:>14}  {:>6}  {:>9}  {:>9}  {:>11}",
        "uid", "hotkey", "stake (TAO)", "permit", "incentive", "dividends", "last_update"
    );
    for n in &graph.neurons {
        println!(
            "{:>4}  {:<48}  {:>14.4}  {:>6}  {:>9.5}  {:>9.5}  {:>11}",
            n.uid,
            n.hotkey.to_string(),
            n.stake as f64 / 1e9,
            if n.validator_permit { "yes" } else { "-" },
            proportion(n.incentive),
            proportion(n.dividends),
            n.last_update
        );
    }
    Ok(())
}

async fn commitments(client: &Client, netuid: u16, a: &ReadArgs) -> Result<()> {
    let all = client.commitments(netuid, a.sel()).await?;
    let rows: Vec<_> = all
        .iter()
        .map(|c| {
            let kiln = match c.kiln() {
                Some(Ok(k)) => json!({
                    "kind": format!("{:?}", k.kind).to_lowercase(), "window": k.window,
                    "blake3": hex::encode(k.digest), "bytes": k.byte_len, "locator": k.locator,
                }),
                Some(Err(e)) => json!({"error": e.to_string()}),
                None => serde_json::Value::Null,
            };
            let fields: Vec<String> = c
                .registration
                .fields
                .iter()
                .map(|f| match f {
                    Field::Raw(b) => format!("raw:{}", hex::encode(b)),
                    other => format!("{other:?}"),
                })
                .collect();
            json!({"hotkey": c.hotkey.to_string(), "block": c.registration.block, "kiln": kiln, "fields": fields})
        })
        .collect();
    if a.json {
        println!("{:#}", json!(rows));
    } else {
        for r in &rows {
            println!(
                "{}  block {}  {}",
                r["hotkey"].as_str().unwrap_or_default(),
                r["block"],
                r["kiln"]
            );
        }
    }
    Ok(())
}

async fn commit(client: &Client, netuid: u16, a: CommitArgs) -> Result<()> {
    let kind = match a.kind.as_str() {
        "artifact" => CommitmentKind::Artifact,
        "manifest" => CommitmentKind::Manifest,
        other => bail!("unknown kind `{other}`: expected artifact or manifest"),
    };
    let mut digest = [0u8; 32];
    hex::decode_to_slice(a.blake3.trim_start_matches("0x"), &mut digest)
        .context("--blake3 must be 64 hex digits")?;
    let commitment = Commitment {
        kind,
        window: a.window,
        digest,
        byte_len: a.bytes,
        locator: a.locator,
    };
    let bytes = commitment.encode()?;
    let hotkey = a.keys.hotkey()?;
    let included = client.set_commitment(netuid, &hotkey, &bytes).await?;
    println!(
        "committed window {} in block {}",
        commitment.window, included.block_number
    );
    Ok(())
}
