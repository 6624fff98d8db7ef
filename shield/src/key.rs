//! The block author's ML-KEM-768 key pair.

use ml_kem::kem::{DecapsulationKey, EncapsulationKey};
use ml_kem::{B32, EncodedSizeUser, KemCore, MlKem768, MlKem768Params};
use sp_crypto_hashing::{blake2_256, twox_128};

/// Length of an ML-KEM-768 encapsulation key.
pub const MLKEM768_ENC_KEY_LEN: usize = 1184;

/// An author's ML-KEM-768 key pair: users encrypt to the encapsulation key, the author
/// decapsulates with the other half.
pub struct ShieldKeyPair {
    decapsulation: DecapsulationKey<MlKem768Params>,
    encapsulation: EncapsulationKey<MlKem768Params>,
}

impl std::fmt::Debug for ShieldKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShieldKeyPair")
            .field("key_hash", &self.key_hash())
            .finish_non_exhaustive()
    }
}

impl ShieldKeyPair {
    /// The key pair of `seed` (FIPS 203's `d` and `z` are `blake2_256` of the seed with `/d`
    /// and `/z` appended); the same seed always gives the same pair.
    pub fn from_seed(seed: &[u8]) -> Self {
        let half = |tag: &[u8]| B32::from(blake2_256(&[seed, tag].concat()));
        let (decapsulation, encapsulation) =
            MlKem768::generate_deterministic(&half(b"/d"), &half(b"/z"));
        Self {
            decapsulation,
            encapsulation,
        }
    }

    /// The encapsulation key's bytes, as `MevShield.NextKey` holds them.
    pub fn encapsulation_key(&self) -> Vec<u8> {
        self.encapsulation.as_bytes().to_vec()
    }

    /// `twox_128` of the encapsulation key: the prefix of a ciphertext made for this key.
    pub fn key_hash(&self) -> [u8; 16] {
        twox_128(self.encapsulation.as_bytes().as_slice())
    }

    /// The decapsulation key.
    pub fn decapsulation_key(&self) -> &DecapsulationKey<MlKem768Params> {
        &self.decapsulation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_give_fixed_distinct_keys_of_finney_length() {
        let a = ShieldKeyPair::from_seed(b"a");
        assert_eq!(a.encapsulation_key().len(), MLKEM768_ENC_KEY_LEN);
        assert_eq!(
            a.encapsulation_key(),
            ShieldKeyPair::from_seed(b"a").encapsulation_key()
        );
        assert_ne!(a.key_hash(), ShieldKeyPair::from_seed(b"b").key_hash());
    }
}
