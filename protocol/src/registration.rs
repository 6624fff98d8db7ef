//! The value the chain's Commitments pallet stores per (netuid, hotkey):
//! `Registration { deposit: u64, block: u32, info: { fields: BoundedVec<Data, 3> } }` in SCALE,
//! where `Data` has the pallet's own encoding: `Raw<n>` is the tag `n + 1` followed by `n`
//! bytes with no length prefix. A kiln [`crate::commitment`] lives in a `Raw` field.
//!
//! The decoder is bounded (at most 3 fields, each no longer than the pallet allows) and strict
//! (canonical compact lengths, no trailing bytes), so decode → encode gives back the input.

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

/// A stored commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Deposit held for it (0 on subtensor).
    pub deposit: u64,
    /// The block it was set at (on-chain order decides who was first).
    pub block: u32,
    /// Its fields.
    pub fields: Vec<Field>,
}

/// Why stored commitment bytes do not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegistrationError {
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
    /// A field longer than its bound.
    #[error("field of {len} bytes, more than {max}")]
    FieldTooLong {
        /// Its length.
        len: u64,
        /// The bound.
        max: usize,
    },
    /// A compact integer in a non-canonical or unsupported form.
    #[error("invalid compact length")]
    BadCompact,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RegistrationError> {
        if self.0.len() < n {
            return Err(RegistrationError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RegistrationError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A SCALE compact integer below 2^30 (every length here is far smaller), canonical only.
    fn compact(&mut self) -> Result<u64, RegistrationError> {
        let first = self.array::<1>()?[0];
        let (value, min) = match first & 0b11 {
            0 => (u64::from(first >> 2), 0),
            1 => {
                let b = self.array::<1>()?[0];
                (u64::from(u16::from_le_bytes([first, b]) >> 2), 1 << 6)
            }
            2 => {
                let rest = self.array::<3>()?;
                let v = u32::from_le_bytes([first, rest[0], rest[1], rest[2]]) >> 2;
                (u64::from(v), 1 << 14)
            }
            _ => return Err(RegistrationError::BadCompact),
        };
        if value < min {
            return Err(RegistrationError::BadCompact);
        }
        Ok(value)
    }

    fn bounded(&mut self, max: usize) -> Result<Vec<u8>, RegistrationError> {
        let len = self.compact()?;
        if len > max as u64 {
            return Err(RegistrationError::FieldTooLong { len, max });
        }
        Ok(self.take(len as usize)?.to_vec())
    }
}

fn put_compact(out: &mut Vec<u8>, value: usize) {
    match value {
        0..=0x3f => out.push((value as u8) << 2),
        0x40..=0x3fff => out.extend_from_slice(&(((value as u16) << 2) | 1).to_le_bytes()),
        _ => out.extend_from_slice(&(((value as u32) << 2) | 2).to_le_bytes()),
    }
}

fn field(r: &mut Reader<'_>) -> Result<Field, RegistrationError> {
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
        other => return Err(RegistrationError::UnknownTag(other)),
    })
}

impl Registration {
    /// Decodes a stored value.
    pub fn decode(bytes: &[u8]) -> Result<Self, RegistrationError> {
        let mut r = Reader(bytes);
        let deposit = u64::from_le_bytes(r.array()?);
        let block = u32::from_le_bytes(r.array()?);
        let count = r.compact()?;
        if count > MAX_FIELDS as u64 {
            return Err(RegistrationError::TooManyFields(count));
        }
        let fields = (0..count)
            .map(|_| field(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        if !r.0.is_empty() {
            return Err(RegistrationError::TrailingBytes(r.0.len()));
        }
        Ok(Registration {
            deposit,
            block,
            fields,
        })
    }

    /// Encodes the value as the pallet stores it (fields longer than their bounds are the
    /// caller's error; `decode` never produces them).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.deposit.to_le_bytes().to_vec();
        out.extend_from_slice(&self.block.to_le_bytes());
        put_compact(&mut out, self.fields.len());
        for f in &self.fields {
            match f {
                Field::None => out.push(0),
                Field::Raw(b) => {
                    out.push(b.len() as u8 + 1);
                    out.extend_from_slice(b);
                }
                Field::BlakeTwo256(h) => {
                    out.push(130);
                    out.extend_from_slice(h);
                }
                Field::Sha256(h) => {
                    out.push(131);
                    out.extend_from_slice(h);
                }
                Field::Keccak256(h) => {
                    out.push(132);
                    out.extend_from_slice(h);
                }
                Field::ShaThree256(h) => {
                    out.push(133);
                    out.extend_from_slice(h);
                }
                Field::TimelockEncrypted {
                    encrypted,
                    reveal_round,
                } => {
                    out.push(134);
                    put_compact(&mut out, encrypted.len());
                    out.extend_from_slice(encrypted);
                    out.extend_from_slice(&reveal_round.to_le_bytes());
                }
                Field::ResetBondsFlag => out.push(135),
                Field::BigRaw(b) => {
                    out.push(136);
                    put_compact(&mut out, b.len());
                    out.extend_from_slice(b);
                }
            }
        }
        out
    }

    /// The kiln commitment in the first `Raw` field, if there is a `Raw` field.
    pub fn kiln(
        &self,
    ) -> Option<Result<crate::commitment::Commitment, crate::commitment::CommitmentError>> {
        self.fields.iter().find_map(|f| match f {
            Field::Raw(bytes) => Some(crate::commitment::Commitment::parse(bytes)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(fields: &[u8], count: u8) -> Vec<u8> {
        let mut b = 0u64.to_le_bytes().to_vec();
        b.extend_from_slice(&42u32.to_le_bytes());
        b.push(count << 2);
        b.extend_from_slice(fields);
        b
    }

    #[test]
    fn every_field_kind_round_trips() {
        let r = Registration {
            deposit: 7,
            block: 42,
            fields: vec![
                Field::Raw(b"kiln".to_vec()),
                Field::TimelockEncrypted {
                    encrypted: vec![9; 300],
                    reveal_round: 5,
                },
                Field::BigRaw(vec![1; 512]),
            ],
        };
        assert_eq!(Registration::decode(&r.encode()).unwrap(), r);
        for f in [
            Field::None,
            Field::Raw(vec![0xab; 128]),
            Field::BlakeTwo256([1; 32]),
            Field::Sha256([2; 32]),
            Field::Keccak256([3; 32]),
            Field::ShaThree256([4; 32]),
            Field::ResetBondsFlag,
        ] {
            let r = Registration {
                deposit: 0,
                block: 1,
                fields: vec![f],
            };
            assert_eq!(Registration::decode(&r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn raw_fields_have_no_length_prefix() {
        let mut fields = vec![5];
        fields.extend_from_slice(b"kiln");
        fields.push(135);
        let got = Registration::decode(&value(&fields, 2)).unwrap();
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
        use RegistrationError as E;
        assert_eq!(Registration::decode(&[1, 2]), Err(E::Truncated));
        assert_eq!(
            Registration::decode(&value(&[], 4)),
            Err(E::TooManyFields(4))
        );
        assert_eq!(
            Registration::decode(&value(&[200], 1)),
            Err(E::UnknownTag(200))
        );
        assert_eq!(
            Registration::decode(&value(&[0, 9], 1)),
            Err(E::TrailingBytes(1))
        );
        assert_eq!(
            Registration::decode(&value(&[136, 0x01, 0x40], 1)),
            Err(E::FieldTooLong {
                len: 4096,
                max: MAX_BIG_RAW
            })
        );
        // 5 written in the two-byte form is not canonical.
        assert_eq!(
            Registration::decode(&value(&[136, 0b0001_0101, 0], 1)),
            Err(E::BadCompact)
        );
        assert_eq!(
            Registration::decode(&value(&[134, 0b11], 1)),
            Err(E::BadCompact)
        );
    }
}
