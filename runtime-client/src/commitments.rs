//! Commitments as stored on chain, per hotkey. The value format (the pallet's `Data` fields) is
//! decoded by [`kiln_protocol::registration`], which is pure and fuzzed.

use kiln_protocol::commitment::{Commitment, CommitmentError};
pub use kiln_protocol::registration::{Field, MAX_RAW, Registration, RegistrationError};
use subxt::utils::AccountId32;

/// A hotkey's current commitment on a subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotkeyCommitment {
    /// The committing hotkey.
    pub hotkey: AccountId32,
    /// The stored value: block (on-chain order decides who was first), deposit, fields.
    pub registration: Registration,
}

impl HotkeyCommitment {
    /// The kiln commitment in the first `Raw` field, if there is a `Raw` field.
    pub fn kiln(&self) -> Option<Result<Commitment, CommitmentError>> {
        self.registration.kiln()
    }
}

impl crate::client::Client {
    /// Every hotkey's commitment on `netuid` at `sel`, in storage order. A malformed value is
    /// an error naming its hotkey (the chain only stores values its pallet decoded).
    pub async fn commitments(
        &self,
        netuid: u16,
        sel: crate::read::BlockSel,
    ) -> Result<Vec<HotkeyCommitment>, crate::error::ReadError> {
        use crate::error::ReadError;
        let at = self.at(sel).await?;
        let item = "Commitments.CommitmentOf";
        let err = |e: String| ReadError::Storage {
            item: item.into(),
            reason: e,
        };
        self.timed(async {
            let mut entries = at
                .storage()
                .iter(crate::schema::commitment_of(), (netuid,))
                .await
                .map_err(|e| err(e.to_string()))?;
            let mut out = Vec::new();
            while let Some(entry) = entries.next().await {
                let entry = entry.map_err(|e| err(e.to_string()))?;
                let key = entry.key().map_err(|e| err(e.to_string()))?;
                let hotkey = key
                    .part(1)
                    .and_then(|p| p.decode_as::<AccountId32>().ok().flatten())
                    .ok_or_else(|| err("key without a hotkey".into()))?;
                let registration =
                    Registration::decode(entry.value().bytes()).map_err(|source| {
                        ReadError::Commitment {
                            hotkey: hotkey.to_string(),
                            source,
                        }
                    })?;
                out.push(HotkeyCommitment {
                    hotkey,
                    registration,
                });
            }
            Ok(out)
        })
        .await?
    }
}
