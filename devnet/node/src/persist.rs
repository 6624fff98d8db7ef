//! `--state-file`: the chain saved to one file and resumed from it.
//!
//! The file holds a magic, a format version, every block (header and extrinsics) and the
//! top-level storage after the best block, SCALE-encoded. Writes go to a temporary file that is
//! synced and renamed over the old one, so a crash leaves the previous save intact. On resume
//! every header must link to its parent, the first must be the genesis the node was started
//! with, and the storage must hash to the best header's state root; states of earlier blocks
//! are not kept (calls at them answer as on a pruned node), nor is the transaction pool.

use crate::chain::{Chain, KeyValue, StoredBlock, state_of};
use codec::{Decode, Encode};
use kiln_devnet_runtime::Header;
use sp_core::H256;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The file's first bytes.
const MAGIC: &[u8; 8] = b"kilndev\0";
/// The format this code writes and reads.
const VERSION: u32 = 1;

/// Why a state file could not be written or resumed.
#[derive(Debug, Error)]
pub enum StateFileError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a devnet state file, or it is damaged.
    #[error("{path} is not a usable devnet state file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file was written by another format version.
    #[error("{path} has state file format {found}; this kiln reads format {VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// The file's chain started from another genesis than the node's flags make.
    #[error(
        "{path} holds a chain with genesis {file:?}, but these flags make genesis {ours:?}; start with the flags it was made with, or remove the file"
    )]
    OtherGenesis {
        /// The file.
        path: PathBuf,
        /// The file's genesis hash.
        file: H256,
        /// The flags' genesis hash.
        ours: H256,
    },
    /// The chain's state could not be read.
    #[error("reading the chain's state: {0}")]
    Read(#[from] crate::CallError),
}

#[derive(Encode, Decode)]
struct Saved {
    blocks: Vec<(Header, Vec<Vec<u8>>)>,
    storage: Vec<KeyValue>,
}

/// Writes `chain` to `path` atomically.
pub fn save(chain: &Chain, path: &Path) -> Result<(), StateFileError> {
    let saved = Saved {
        blocks: chain
            .blocks()
            .iter()
            .map(|b| (b.header.clone(), b.extrinsics.clone()))
            .collect(),
        storage: chain.best_storage()?,
    };
    let io = |source| StateFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(MAGIC).map_err(io)?;
    file.write_all(&VERSION.to_le_bytes()).map_err(io)?;
    file.write_all(&saved.encode()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

/// The chain saved in `path`, which must have started from `genesis` (the chain the node's
/// flags make).
pub fn resume(path: &Path, genesis: &Chain) -> Result<Chain, StateFileError> {
    let corrupt = |reason: String| StateFileError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|source| StateFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| corrupt("no kiln devnet header".into()))?;
    let (version, mut body) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| corrupt("truncated header".into()))?;
    let found = u32::from_le_bytes(*version);
    if found != VERSION {
        return Err(StateFileError::Version {
            path: path.to_path_buf(),
            found,
        });
    }
    let saved = Saved::decode(&mut body).map_err(|e| corrupt(e.to_string()))?;
    if !body.is_empty() {
        return Err(corrupt(format!("{} trailing bytes", body.len())));
    }
    let mut blocks = Vec::with_capacity(saved.blocks.len());
    for (number, (header, extrinsics)) in saved.blocks.into_iter().enumerate() {
        let parent = blocks.last().map_or(H256::zero(), |b: &StoredBlock| b.hash);
        if header.number as usize != number || header.parent_hash != parent {
            return Err(corrupt(format!(
                "block {number} does not follow its parent"
            )));
        }
        blocks.push(StoredBlock {
            hash: header.hash(),
            header,
            extrinsics,
        });
    }
    let first = blocks.first().ok_or_else(|| corrupt("no blocks".into()))?;
    if first.hash != genesis.genesis_hash() {
        return Err(StateFileError::OtherGenesis {
            path: path.to_path_buf(),
            file: first.hash,
            ours: genesis.genesis_hash(),
        });
    }
    let storage = sp_core::storage::Storage {
        top: saved.storage.into_iter().collect(),
        children_default: Default::default(),
    };
    let state = state_of(storage);
    let best = blocks.last().expect("at least genesis");
    if *state.root() != best.header.state_root {
        return Err(corrupt(format!(
            "the storage does not match block {}'s state root",
            best.header.number
        )));
    }
    Ok(Chain::from_parts(blocks, state))
}
