//! The commitment `Data` field: subtensor's (and pallet-identity's) custom SCALE encoding, where
//! `Raw` bytes of length N are tagged N + 1 and carry no length prefix.

use codec::{Decode, DecodeWithMemTracking, Encode, Input};
use frame_support::BoundedVec;
use frame_support::traits::ConstU32;
use scale_info::build::{Fields, Variants};
use scale_info::{Path, Type, TypeInfo};

/// One commitment field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Data {
    /// Nothing.
    #[default]
    None,
    /// Up to 128 raw bytes (tags 1..=129).
    Raw(BoundedVec<u8, ConstU32<128>>),
    /// A BLAKE2-256 hash.
    BlakeTwo256([u8; 32]),
    /// A SHA-256 hash.
    Sha256([u8; 32]),
    /// A Keccak-256 hash.
    Keccak256([u8; 32]),
    /// A SHA3-256 hash.
    ShaThree256([u8; 32]),
    /// Timelock-encrypted bytes to reveal at a drand round.
    TimelockEncrypted {
        /// Ciphertext.
        encrypted: BoundedVec<u8, ConstU32<1024>>,
        /// Drand round that decrypts it.
        reveal_round: u64,
    },
    /// Ask for the committer's bonds to be reset.
    ResetBondsFlag,
    /// Up to 512 raw bytes with a length prefix.
    BigRaw(BoundedVec<u8, ConstU32<512>>),
}

impl Data {
    /// Bytes this field counts against the commitment space quota.
    pub fn len_for_rate_limit(&self) -> u64 {
        match self {
            Self::None | Self::ResetBondsFlag => 0,
            Self::Raw(b) => b.len() as u64,
            Self::BlakeTwo256(_) | Self::Sha256(_) | Self::Keccak256(_) | Self::ShaThree256(_) => {
                32
            }
            Self::TimelockEncrypted { encrypted, .. } => encrypted.len() as u64,
            Self::BigRaw(b) => b.len() as u64,
        }
    }
}

impl Encode for Data {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::None => out.push(0),
            Self::Raw(b) => {
                out.push(b.len() as u8 + 1);
                out.extend_from_slice(b);
            }
            Self::BlakeTwo256(h) => (130u8, h).encode_to(&mut out),
            Self::Sha256(h) => (131u8, h).encode_to(&mut out),
            Self::Keccak256(h) => (132u8, h).encode_to(&mut out),
            Self::ShaThree256(h) => (133u8, h).encode_to(&mut out),
            Self::TimelockEncrypted {
                encrypted,
                reveal_round,
            } => (134u8, encrypted, reveal_round).encode_to(&mut out),
            Self::ResetBondsFlag => out.push(135),
            Self::BigRaw(b) => (136u8, b).encode_to(&mut out),
        }
        out
    }
}

impl Decode for Data {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let tag = input.read_byte()?;
        Ok(match tag {
            0 => Self::None,
            1..=129 => {
                let mut bytes = vec![0u8; usize::from(tag - 1)];
                input.read(&mut bytes)?;
                Self::Raw(BoundedVec::try_from(bytes).map_err(|_| "raw too long")?)
            }
            130 => Self::BlakeTwo256(Decode::decode(input)?),
            131 => Self::Sha256(Decode::decode(input)?),
            132 => Self::Keccak256(Decode::decode(input)?),
            133 => Self::ShaThree256(Decode::decode(input)?),
            134 => Self::TimelockEncrypted {
                encrypted: Decode::decode(input)?,
                reveal_round: Decode::decode(input)?,
            },
            135 => Self::ResetBondsFlag,
            136 => Self::BigRaw(Decode::decode(input)?),
            _ => return Err("invalid Data tag".into()),
        })
    }
}

impl DecodeWithMemTracking for Data {}

macro_rules! raw_variants {
    ($variants:expr; $($n:literal),*) => {
        $variants
            $(.variant(concat!("Raw", $n), |v| {
                v.index($n + 1).fields(Fields::unnamed().field(|f| f.ty::<[u8; $n]>()))
            }))*
    };
}

impl TypeInfo for Data {
    type Identity = Self;

    fn type_info() -> Type {
        let variants = Variants::new().variant("None", |v| v.index(0));
        let variants = raw_variants!(variants; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128);
        let hash = |name: &'static str, index: u8, vs: Variants| {
            vs.variant(name, |v| {
                v.index(index)
                    .fields(Fields::unnamed().field(|f| f.ty::<[u8; 32]>()))
            })
        };
        let variants = hash("BlakeTwo256", 130, variants);
        let variants = hash("Sha256", 131, variants);
        let variants = hash("Keccak256", 132, variants);
        let variants = hash("ShaThree256", 133, variants)
            .variant("TimelockEncrypted", |v| {
                v.index(134).fields(
                    Fields::named()
                        .field(|f| f.ty::<BoundedVec<u8, ConstU32<1024>>>().name("encrypted"))
                        .field(|f| f.ty::<u64>().name("reveal_round")),
                )
            })
            .variant("ResetBondsFlag", |v| v.index(135))
            .variant("BigRaw", |v| {
                v.index(136)
                    .fields(Fields::unnamed().field(|f| f.ty::<BoundedVec<u8, ConstU32<512>>>()))
            });
        Type::builder()
            .path(Path::new("Data", module_path!()))
            .variant(variants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_fields_encode_without_a_length_prefix() {
        let raw = Data::Raw(BoundedVec::try_from(b"kiln".to_vec()).unwrap());
        assert_eq!(raw.encode(), [5, b'k', b'i', b'l', b'n']);
        assert_eq!(Data::decode(&mut &raw.encode()[..]).unwrap(), raw);
        let cases = [
            Data::None,
            Data::Raw(BoundedVec::try_from(vec![7; 128]).unwrap()),
            Data::Sha256([3; 32]),
            Data::TimelockEncrypted {
                encrypted: BoundedVec::try_from(vec![1, 2]).unwrap(),
                reveal_round: 9,
            },
            Data::ResetBondsFlag,
            Data::BigRaw(BoundedVec::try_from(vec![4; 300]).unwrap()),
        ];
        for d in cases {
            assert_eq!(Data::decode(&mut &d.encode()[..]).unwrap(), d);
        }
        assert!(Data::decode(&mut &[137u8][..]).is_err());
        assert!(
            Data::decode(&mut &[10u8, 1, 2][..]).is_err(),
            "truncated raw field"
        );
    }
}
