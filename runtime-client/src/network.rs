//! Which chain to talk to: `finney`, `test`, `local`, or a `ws://` / `wss://` URL.

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A chain endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// Bittensor mainnet.
    Finney,
    /// Bittensor testnet.
    Test,
    /// A node on this machine (`ws://127.0.0.1:9944`, where `kiln devnet` listens).
    Local,
    /// Any WebSocket JSON-RPC endpoint.
    Url(String),
}

/// Why a `--chain` value is not a network.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown chain `{0}`: expected finney, test, local, or a ws:// or wss:// URL")]
pub struct NetworkParseError(pub String);

impl Network {
    /// The WebSocket URL of the endpoint.
    pub fn url(&self) -> &str {
        match self {
            Network::Finney => "wss://entrypoint-finney.opentensor.ai:443",
            Network::Test => "wss://test.finney.opentensor.ai:443",
            Network::Local => "ws://127.0.0.1:9944",
            Network::Url(url) => url,
        }
    }
}

impl FromStr for Network {
    type Err = NetworkParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "finney" => Ok(Network::Finney),
            "test" => Ok(Network::Test),
            "local" => Ok(Network::Local),
            url if url.starts_with("ws://") || url.starts_with("wss://") => {
                Ok(Network::Url(url.to_owned()))
            }
            other => Err(NetworkParseError(other.to_owned())),
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::Finney => f.write_str("finney"),
            Network::Test => f.write_str("test"),
            Network::Local => f.write_str("local"),
            Network::Url(url) => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls_parse() {
        assert_eq!("finney".parse::<Network>().unwrap(), Network::Finney);
        assert_eq!(
            "local".parse::<Network>().unwrap().url(),
            "ws://127.0.0.1:9944"
        );
        let url: Network = "wss://example.org:443".parse().unwrap();
        assert_eq!(url.url(), "wss://example.org:443");
        assert!("http://example.org".parse::<Network>().is_err());
        assert!("mainnet".parse::<Network>().is_err());
    }
}
