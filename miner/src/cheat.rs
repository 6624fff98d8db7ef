//! Deliberate misbehaviour (`kiln miner --cheat`), so that validators can be shown, and tested,
//! to catch it. Pure: each cheat changes what is trained on or what is uploaded.

use crate::round::WindowUpdate;

/// Ways a miner can misbehave on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cheat {
    /// Train on rows drawn from the whole dataset instead of the assigned pool.
    RandomData,
    /// Upload bytes that are not an artifact (its magic overwritten).
    Malformed,
    /// Upload the artifact padded with zeros to [`OVERSIZE_FACTOR`] times its size.
    Oversized,
}

/// How much larger an oversized upload is than the honest artifact.
pub const OVERSIZE_FACTOR: usize = 4;

impl Cheat {
    /// The bytes uploaded in place of the honest artifact's `honest`.
    pub fn tamper(self, honest: &[u8]) -> Vec<u8> {
        let mut bytes = honest.to_vec();
        match self {
            Cheat::RandomData => {}
            Cheat::Malformed => {
                for b in bytes.iter_mut().take(8) {
                    *b = b'!';
                }
            }
            Cheat::Oversized => bytes.resize(honest.len().max(1) * OVERSIZE_FACTOR, 0),
        }
        bytes
    }

    /// Replaces `update`'s bytes and digest with the tampered ones (the training, the delta
    /// and the error feedback stay the honest ones).
    pub fn apply(self, update: &mut WindowUpdate) {
        if self == Cheat::RandomData {
            return;
        }
        update.bytes = self.tamper(&update.bytes);
        update.digest = *blake3::hash(&update.bytes).as_bytes();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_protocol::codec::compress;
    use kiln_protocol::{Artifact, ArtifactHeader, DecodeError, DecodeOptions};

    fn honest() -> Vec<u8> {
        let values: Vec<f32> = (0..64 * 64)
            .map(|i| ((i % 17) as f32 - 8.0) / 8.0)
            .collect();
        Artifact {
            header: ArtifactHeader {
                netuid: 1,
                uid: 2,
                hotkey: [3; 32],
                window: 4,
                base_model_hash: [5; 32],
                hparams_hash: [6; 32],
            },
            tensors: vec![compress("w", &[64, 64], &values, 64, 32).unwrap()],
        }
        .encode()
        .unwrap()
    }

    #[test]
    fn each_cheat_is_what_the_decoder_refuses() {
        let opts = DecodeOptions::default();
        let good = honest();
        assert!(Artifact::decode(&good, &opts).is_ok());
        assert_eq!(Cheat::RandomData.tamper(&good), good);
        let bad = Cheat::Malformed.tamper(&good);
        assert_eq!(bad.len(), good.len());
        assert!(matches!(
            Artifact::decode(&bad, &opts),
            Err(DecodeError::BadMagic)
        ));
        let big = Cheat::Oversized.tamper(&good);
        assert_eq!(big.len(), good.len() * OVERSIZE_FACTOR);
        assert_eq!(&big[..good.len()], good.as_slice());
        assert!(matches!(
            Artifact::decode(&big, &opts),
            Err(DecodeError::TrailingBytes(_))
        ));
    }
}
