//! The Commitments pallet's stored values, decoded from their SCALE bytes with the pallet's own
//! rules (its `Data` enum has a custom encoding: `Raw<n>` is tag `n + 1` followed by `n` bytes,
//! no length prefix). Bounded: no field longer than the pallet allows, at most 3 fields.

use kiln_protocol::commitment::{Commitment, CommitmentError};
use subxt::utils::AccountId32;
use thiserror::Error;

/// Most fields in one commitment (`MaxCommitFieldsInner` on subtensor).
pub const MAX_FIELDS: usize = 3;
/// Longest `Raw` field.
pub const MAX_RAW: usize = 128;
/// Longest `TimelockEncrypted` ciphertext.
pub const MAX_TIMELOCK: usize = 1024;
/// Longest `BigRaw` field.
pub const MAX_BIG_RAW: usize = 512;

/// One field of a commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// No data.
    None,
    /// Up to 128 raw bytes (where kiln commitments live).
    Raw(Vec<u8>),
    /// A BLAKE2-256 hash.
    BlakeTwo256([u8; 32]),
    /// A SHA-256 hash.
    Sha256([u8; 32]),
    /// A Keccak-256 hash.
    Keccak256([u8; 32]),
    /// A SHA3-256 hash.
    ShaThree256([u8; 32]),
    /// Timelock-encrypted data, revealed by the chain at a drand round.
    TimelockEncrypted {
        /// The ciphertext.
        encrypted: Vec<u8>,
        /// The drand round that decrypts it.
        reveal_round: u64,
    },
    /// Asks the chain to reset the committer's bonds.
    ResetBondsFlag,
    /// Up to 512 raw bytes.
    BigRaw(Vec<u8>),
}

/// A hotkey's current commitment on a subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotkeyCommitment {
    /// The committing hotkey.
    pub hotkey: AccountId32,
    /// The block the commitment was set at (on-chain order decides who was first).
    pub block: u32,
    /// Deposit held for it (0 on subtensor).
    pub deposit: u64,
    /// Its fields.
    pub fields: Vec<Field>,
}

impl HotkeyCommitment {
    /// The kiln commitment in the first `Raw` field, if there is a `Raw` field.
    pub fn kiln(&self) -> Option<Result<Commitment, CommitmentError>> {
        self.fields.iter().find_map(|f| match f {
            Field::Raw(bytes) => Some(Commitment::parse(bytes)),
            _ => None,
        })
    }
}

/// Why stored commitment bytes do not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegistrationDecodeError {
    /// The bytes end inside a value.
    #[error("commitment value ends early")]
    Truncated,
    /// Bytes are left over after the value.
    #[error("{0} bytes left over after the commitment value")]
    TrailingBytes(usize),
    /// More fields than the pallet allows.
    #[error("{0} fields, more than {MAX_FIELDS}")]
    TooManyFields(u64),
    /// A `Data` tag the pallet does not define.
    #[error("unknown field tag {0}")]
    UnknownTag(u8),
    /// A bounded field longer than its bound.
    #[error("field of {len} bytes, more than {max}")]
    FieldTooLong {
        /// Declared length.
        len: u64,
        /// The bound.
        max: usize,
    },
    /// A compact integer that is not canonical or too large.
    #[error("invalid compact length")]
    BadCompact,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RegistrationDecodeError> {
        if self.0.len() < n {
            return Err(RegistrationDecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RegistrationDecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn compact(&mut self) -> Result<u64, RegistrationDecodeError> {
        let mut input = self.0;
        let value = <codec::Compact<u64> as codec::Decode>::decode(&mut input)
            .map_err(|_| RegistrationDecodeError::BadCompact)?;
        self.0 = input;
        Ok(value.0)
    }

    fn bounded(&mut self, max: usize) -> Result<Vec<u8>, RegistrationDecodeError> {
        let len = self.compact()?;
        if len > max as u64 {
            return Err(RegistrationDecodeError::FieldTooLong { len, max });
        }
        Ok(self.take(len as usize)?.to_vec())
    }
}

fn field(r: &mut Reader<'_>) -> Result<Field, RegistrationDecodeError> {
    let tag = r.array::<1>()?[0];
    Ok(match tag {
        0 => Field::None,
        1..=129 => Field::Raw(r.take(usize::from(tag - 1))?.to_vec()),
        130 => Field::BlakeTwo256(r.array()?),
        131 => Field::Sha256(r.array()?),
        132 => Field::Keccak256(r.array()?),
        133 => Field::ShaThree256(r.array()?),
        134 => {
            let encrypted = r.bounded(MAX_TIMELOCK)?;
            let reveal_round = u64::from_le_bytes(r.array()?);
            Field::TimelockEncrypted {
                encrypted,
                reveal_round,
            }
        }
        135 => Field::ResetBondsFlag,
        136 => Field::BigRaw(r.bounded(MAX_BIG_RAW)?),
        other => return Err(RegistrationDecodeError::UnknownTag(other)),
    })
}

/// Decodes a stored `Registration { deposit: u64, block: u32, info: { fields } }`.
pub fn decode_registration(
    hotkey: AccountId32,
    bytes: &[u8],
) -> Result<HotkeyCommitment, RegistrationDecodeError> {
    let mut r = Reader(bytes);
    let deposit = u64::from_le_bytes(r.array()?);
    let block = u32::from_le_bytes(r.array()?);
    let count = r.compact()?;
    if count > MAX_FIELDS as u64 {
        return Err(RegistrationDecodeError::TooManyFields(count));
    }
    let fields = (0..count)
        .map(|_| field(&mut r))
        .collect::<Result<Vec<_>, _>>()?;
    if !r.0.is_empty() {
        return Err(RegistrationDecodeError::TrailingBytes(r.0.len()));
    }
    Ok(HotkeyCommitment {
        hotkey,
        block,
        deposit,
        fields,
    })
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
                let value =
                    decode_registration(hotkey, entry.value().bytes()).map_err(|source| {
                        ReadError::Commitment {
                            hotkey: hotkey.to_string(),
                            source,
                        }
                    })?;
                out.push(value);
            }
            Ok(out)
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(fields: &[u8], count: u8) -> Vec<u8> {
        let mut b = 0u64.to_le_bytes().to_vec();
        b.extend_from_slice(&42u32.to_le_bytes());
        b.push(count << 2);
        b.extend_from_slice(fields);
        b
    }

    #[test]
    fn raw_fields_decode_without_a_length_prefix() {
        let mut fields = vec![5];
        fields.extend_from_slice(b"kiln");
        fields.push(135);
        let got = decode_registration(AccountId32([1; 32]), &registration(&fields, 2)).unwrap();
        assert_eq!(got.block, 42);
        assert_eq!(
            got.fields,
            [Field::Raw(b"kiln".to_vec()), Field::ResetBondsFlag]
        );
        assert!(
            matches!(got.kiln(), Some(Err(_))),
            "4 bytes are not a kiln commitment"
        );
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        let hk = AccountId32([0; 32]);
        assert_eq!(
            decode_registration(hk, &[1, 2]),
            Err(RegistrationDecodeError::Truncated)
        );
        assert_eq!(
            decode_registration(hk, &registration(&[], 4)),
            Err(RegistrationDecodeError::TooManyFields(4))
        );
        assert_eq!(
            decode_registration(hk, &registration(&[200], 1)),
            Err(RegistrationDecodeError::UnknownTag(200))
        );
        assert_eq!(
            decode_registration(hk, &registration(&[0, 9], 1)),
            Err(RegistrationDecodeError::TrailingBytes(1))
        );
        // BigRaw declaring 4096 bytes.
        assert_eq!(
            decode_registration(hk, &registration(&[136, 0x01, 0x40], 1)),
            Err(RegistrationDecodeError::FieldTooLong {
                len: 4096,
                max: MAX_BIG_RAW
            })
        );
    }
}
