//! What a stack runs: its miners' behaviours, its storage, its timing.

use kiln_miner::Cheat;
use std::path::PathBuf;
use std::str::FromStr;
use thiserror::Error;

/// How a miner of the stack behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// Trains on its assignment and uploads what it trained.
    Honest,
    /// Trains on rows other than its assignment.
    RandomData,
    /// Commits another miner's digest.
    Copycat,
    /// Uploads an all-zero update.
    Zeros,
    /// Never applies the validator's manifests.
    Stale,
    /// Uploads bytes that are not an artifact.
    Malformed,
    /// Uploads the artifact padded to four times its size.
    Oversized,
}

impl Behaviour {
    /// Every cheat, in a fixed order.
    pub const CHEATS: [Behaviour; 6] = [
        Behaviour::RandomData,
        Behaviour::Copycat,
        Behaviour::Zeros,
        Behaviour::Stale,
        Behaviour::Malformed,
        Behaviour::Oversized,
    ];

    /// The `kiln miner --cheat` it runs with (`None`: honest).
    pub fn cheat(self) -> Option<Cheat> {
        match self {
            Behaviour::Honest => None,
            Behaviour::RandomData => Some(Cheat::RandomData),
            Behaviour::Copycat => Some(Cheat::Copycat),
            Behaviour::Zeros => Some(Cheat::Zeros),
            Behaviour::Stale => Some(Cheat::Stale),
            Behaviour::Malformed => Some(Cheat::Malformed),
            Behaviour::Oversized => Some(Cheat::Oversized),
        }
    }

    /// Its name: the cheat's, as `kiln miner --cheat` spells it, or `honest`.
    pub fn name(self) -> &'static str {
        self.cheat().map_or("honest", Cheat::name)
    }

    /// Whether validators should pay it.
    pub fn is_honest(self) -> bool {
        self == Behaviour::Honest
    }
}

/// An unknown behaviour name.
#[derive(Debug, Error)]
#[error(
    "unknown miner behaviour `{0}`: expected honest, random-data, copycat, zeros, stale, malformed or oversized"
)]
pub struct UnknownBehaviour(pub String);

impl FromStr for Behaviour {
    type Err = UnknownBehaviour;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        std::iter::once(Behaviour::Honest)
            .chain(Behaviour::CHEATS)
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownBehaviour(s.to_string()))
    }
}

/// An S3 bucket for the gateway's store.
#[derive(Debug, Clone)]
pub struct S3 {
    /// The bucket.
    pub bucket: String,
    /// Endpoint of an S3-compatible server (default: AWS).
    pub endpoint: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Path-style requests.
    pub path_style: bool,
    /// Plain-HTTP endpoints allowed.
    pub allow_http: bool,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
}

/// A stack's settings.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// The `kiln` binary every component runs from.
    pub bin: PathBuf,
    /// Where the dataset and the warm-start model are kept across runs; each run's files go
    /// under `run/` in it, made afresh.
    pub state_dir: PathBuf,
    /// The miners, in registration order.
    pub miners: Vec<Behaviour>,
    /// Milliseconds between devnet blocks.
    pub block_time_ms: u64,
    /// Tempo (blocks per epoch) of the subnet.
    pub tempo: u16,
    /// The gateway's store: `None` for a folder in the run directory.
    pub s3: Option<S3>,
    /// A server to create the run's database on; `None` runs a private cluster.
    pub database_url: Option<String>,
    /// Windows the validator scores before it exits (`None`: until stopped).
    pub windows: Option<u64>,
    /// Windows of plain training every participant starts from (0: the genesis model).
    pub warm_windows: u64,
    /// Rows of the synthetic dataset.
    pub dataset_rows: u64,
}

impl StackConfig {
    /// The defaults of `kiln up` with `miners`.
    pub fn new(bin: PathBuf, state_dir: PathBuf, miners: Vec<Behaviour>) -> Self {
        Self {
            bin,
            state_dir,
            miners,
            block_time_ms: 400,
            tempo: 10,
            s3: None,
            database_url: None,
            windows: None,
            warm_windows: 30,
            dataset_rows: 4096,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviours_round_trip_through_their_names() {
        for b in std::iter::once(Behaviour::Honest).chain(Behaviour::CHEATS) {
            assert_eq!(b.name().parse::<Behaviour>().unwrap(), b);
        }
        assert!("lazy".parse::<Behaviour>().is_err());
        assert!(Behaviour::Honest.is_honest() && !Behaviour::Copycat.is_honest());
        // Every cheat the miner has, once.
        let mut cheats: Vec<&str> = Behaviour::CHEATS.iter().map(|b| b.name()).collect();
        cheats.sort_unstable();
        let mut all: Vec<&str> = Cheat::ALL.iter().map(|c| c.name()).collect();
        all.sort_unstable();
        assert_eq!(cheats, all);
    }
}
