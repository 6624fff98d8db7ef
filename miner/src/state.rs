//! The miner's durable state: its error-feedback buffers and the last window it committed,
//! written atomically (temporary file, fsync, rename, fsync of the folder) and checked by blake3
//! on load, so a crash at any point leaves either the old state or the new one, and a damaged
//! file is an error, never a silent reset of the error feedback.
//!
//! ```text
//! "kilnMST1" | netuid u16 | uid u16 | hotkey [32] | last_window u64 (u64::MAX: none)
//! | hparams_hash [32] | tensors u32 | per tensor: name_len u16, name, elements u64, f32 LE…
//! | blake3 of all the above [32]
//! ```

use kiln_protocol::codec::{ErrorFeedback, FeedbackError, TensorSpec};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

const MAGIC: &[u8; 8] = b"kilnMST1";
/// Stored in place of a window when none was committed.
const NO_WINDOW: u64 = u64::MAX;

/// Who the state belongs to; a state saved for another identity or run is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The subnet.
    pub netuid: u16,
    /// The miner's uid.
    pub uid: u16,
    /// The miner's hotkey.
    pub hotkey: [u8; 32],
    /// The run's hparams hash.
    pub hparams_hash: [u8; 32],
}

/// The durable part of a miner.
#[derive(Debug, Clone)]
pub struct MinerState {
    /// Whose state this is.
    pub identity: Identity,
    /// The last window whose commitment landed, if any.
    pub last_window: Option<u64>,
    /// The error-feedback buffers.
    pub feedback: ErrorFeedback,
}

/// Why a state file cannot be used.
#[derive(Debug, Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is damaged (wrong magic, truncated, or its checksum does not match).
    #[error(
        "{path} is damaged: {reason}; refusing to reset the error feedback (move the file away to start over)"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file belongs to another subnet, uid, hotkey or run.
    #[error("{path} belongs to another miner or run ({field} differs)")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The differing field.
        field: &'static str,
    },
    /// The buffers do not fit the model's tensors.
    #[error("{path}: {source}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// The mismatch.
        source: FeedbackError,
    },
}

impl MinerState {
    /// A fresh state: zero buffers for `specs`, no window committed.
    pub fn fresh(identity: Identity, specs: Vec<TensorSpec>, decay: f32) -> Self {
        MinerState {
            identity,
            last_window: None,
            feedback: ErrorFeedback::new(specs, decay),
        }
    }

    /// The serialized state.
    pub fn encode(&self) -> Vec<u8> {
        let specs = self.feedback.specs();
        let elements: u64 = specs.iter().map(|s| s.geometry.elements()).sum();
        let mut out = Vec::with_capacity(128 + elements as usize * 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.identity.netuid.to_le_bytes());
        out.extend_from_slice(&self.identity.uid.to_le_bytes());
        out.extend_from_slice(&self.identity.hotkey);
        out.extend_from_slice(&self.last_window.unwrap_or(NO_WINDOW).to_le_bytes());
        out.extend_from_slice(&self.identity.hparams_hash);
        out.extend_from_slice(&(specs.len() as u32).to_le_bytes());
        for (i, s) in specs.iter().enumerate() {
            out.extend_from_slice(&(s.name.len() as u16).to_le_bytes());
            out.extend_from_slice(s.name.as_bytes());
            out.extend_from_slice(&s.geometry.elements().to_le_bytes());
            for v in self.feedback.buffer(i) {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        let sum = blake3::hash(&out);
        out.extend_from_slice(sum.as_bytes());
        out
    }

    /// Writes the state to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let io = |source| StateError::Io {
            path: path.to_owned(),
            source,
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(&self.encode()).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io)?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        Ok(())
    }

    /// Loads the state at `path` for `identity` and the model's `specs`, or `None` if there is
    /// no file. Any damage or mismatch is an error.
    pub fn load(
        path: &Path,
        identity: Identity,
        specs: Vec<TensorSpec>,
        decay: f32,
    ) -> Result<Option<Self>, StateError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        decode(path, &bytes, identity, specs, decay).map(Some)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        (self.0.len() >= n).then(|| {
            let (a, b) = self.0.split_at(n);
            self.0 = b;
            a
        })
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).map(|b| b.try_into().expect("length checked"))
    }
}

fn decode(
    path: &Path,
    bytes: &[u8],
    identity: Identity,
    specs: Vec<TensorSpec>,
    decay: f32,
) -> Result<MinerState, StateError> {
    let corrupt = |reason: &str| StateError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let mismatch = |field| StateError::Mismatch {
        path: path.to_owned(),
        field,
    };
    if bytes.len() < MAGIC.len() + 32 || &bytes[..8] != MAGIC {
        return Err(corrupt("not a kiln miner state"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
        return Err(corrupt("checksum mismatch"));
    }
    let mut r = Reader(&body[8..]);
    let truncated = || corrupt("truncated");
    let netuid = u16::from_le_bytes(r.array().ok_or_else(truncated)?);
    let uid = u16::from_le_bytes(r.array().ok_or_else(truncated)?);
    let hotkey: [u8; 32] = r.array().ok_or_else(truncated)?;
    let last = u64::from_le_bytes(r.array().ok_or_else(truncated)?);
    let hparams_hash: [u8; 32] = r.array().ok_or_else(truncated)?;
    if netuid != identity.netuid {
        return Err(mismatch("netuid"));
    }
    if uid != identity.uid {
        return Err(mismatch("uid"));
    }
    if hotkey != identity.hotkey {
        return Err(mismatch("hotkey"));
    }
    if hparams_hash != identity.hparams_hash {
        return Err(mismatch("hparams hash"));
    }
    let count = u32::from_le_bytes(r.array().ok_or_else(truncated)?) as usize;
    if count != specs.len() {
        return Err(mismatch("tensor count"));
    }
    let mut buffers = Vec::with_capacity(count);
    for spec in &specs {
        let len = u16::from_le_bytes(r.array().ok_or_else(truncated)?) as usize;
        let name = r.take(len).ok_or_else(truncated)?;
        if name != spec.name.as_bytes() {
            return Err(mismatch("tensor names"));
        }
        let elements = u64::from_le_bytes(r.array().ok_or_else(truncated)?);
        if elements != spec.geometry.elements() {
            return Err(mismatch("tensor sizes"));
        }
        let raw = r.take(elements as usize * 4).ok_or_else(truncated)?;
        buffers.push(
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect(),
        );
    }
    if !r.0.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    let feedback =
        ErrorFeedback::from_buffers(specs, decay, buffers).map_err(|source| StateError::Shape {
            path: path.to_owned(),
            source,
        })?;
    Ok(MinerState {
        identity,
        last_window: (last != NO_WINDOW).then_some(last),
        feedback,
    })
}
