//! subtensor's `WeightsTlockPayload`: what a timelocked weights commit encrypts.

use codec::{Decode, Encode};

/// The plaintext of `commit_timelocked_weights`: SCALE of the committing hotkey (its 32-byte
/// account id, as bytes), the uids, the u16 values and the version key. The runtime applies
/// the weights only when `hotkey` is the committer.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct WeightsTlockPayload {
    /// SCALE of the committer's account id.
    pub hotkey: Vec<u8>,
    /// Target uids.
    pub uids: Vec<u16>,
    /// Weights, u16-normalized.
    pub values: Vec<u16>,
    /// The subnet's weights version key.
    pub version_key: u64,
}
