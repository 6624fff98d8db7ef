//! subtensor's fixed-point numbers (`substrate_fixed`) as they appear on the wire: the raw bits
//! in a one-field struct named `bits`, so clients decode them as they decode finney's.

use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// `I32F32`: a signed number with 32 fractional bits.
pub type I32F32 = FixedI64;
/// `U64F64`: an unsigned number with 64 fractional bits.
pub type U64F64 = FixedU128;
/// `I64F64`: a signed number with 64 fractional bits.
pub type I64F64 = FixedI128;
/// `I96F32`: a signed number with 32 fractional bits (the same 128 bits on the wire).
pub type I96F32 = FixedI128;

/// 64 bits, 32 of them fractional (`substrate_fixed`'s type name for `I32F32`).
#[derive(Encode, Decode, TypeInfo, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixedI64 {
    /// The value times 2^32.
    pub bits: i64,
}

/// 128 unsigned bits, 64 of them fractional (`U64F64`).
#[derive(Encode, Decode, TypeInfo, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixedU128 {
    /// The value times 2^64.
    pub bits: u128,
}

/// 128 signed bits (`I64F64` or `I96F32`: the wire does not say where the point is).
#[derive(Encode, Decode, TypeInfo, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixedI128 {
    /// The value times 2^64.
    pub bits: i128,
}

impl FixedI64 {
    /// `n` exactly.
    pub const fn from_int(n: i32) -> Self {
        Self {
            bits: (n as i64) << 32,
        }
    }
}

impl FixedU128 {
    /// `n` exactly.
    pub const fn from_int(n: u64) -> Self {
        Self {
            bits: (n as u128) << 64,
        }
    }
}
