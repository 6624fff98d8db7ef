//! Deliberate misbehaviour (`kiln miner --cheat`), so that validators can be shown, and tested,
//! to catch it. Each cheat changes what is trained on, what is uploaded, or what is committed.

use crate::round::WindowUpdate;
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::{Artifact, Codebook, DecodeOptions};
use kiln_runtime_client::{AccountId32, BlockSel, Client};
use std::time::Duration;

/// Ways a miner can misbehave on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cheat {
    /// Train on rows drawn from the whole dataset instead of the assigned pool.
    RandomData,
    /// Upload bytes that are not an artifact (its magic overwritten).
    Malformed,
    /// Upload the artifact padded with zeros to [`OVERSIZE_FACTOR`] times its size.
    Oversized,
    /// Upload a well-formed artifact whose every value is zero.
    Zeros,
    /// Never apply the validator's manifests: keep training the model it started with.
    Stale,
    /// Upload nothing; commit another miner's digest of the same window once one appears.
    Copycat,
}

/// How much larger an oversized upload is than the honest artifact.
pub const OVERSIZE_FACTOR: usize = 4;

/// A `--cheat` name that is none of [`Cheat::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown cheat `{0}`: expected random-data, malformed, oversized, zeros, stale or copycat")]
pub struct UnknownCheat(pub String);

impl std::str::FromStr for Cheat {
    type Err = UnknownCheat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cheat::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownCheat(s.to_string()))
    }
}

impl Cheat {
    /// Every cheat.
    pub const ALL: [Cheat; 6] = [
        Cheat::RandomData,
        Cheat::Malformed,
        Cheat::Oversized,
        Cheat::Zeros,
        Cheat::Stale,
        Cheat::Copycat,
    ];

    /// Its name, as `kiln miner --cheat` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Cheat::RandomData => "random-data",
            Cheat::Malformed => "malformed",
            Cheat::Oversized => "oversized",
            Cheat::Zeros => "zeros",
            Cheat::Stale => "stale",
            Cheat::Copycat => "copycat",
        }
    }

    /// The bytes uploaded in place of the honest artifact's `honest`.
    pub fn tamper(self, honest: &[u8]) -> Vec<u8> {
        let mut bytes = honest.to_vec();
        match self {
            Cheat::RandomData | Cheat::Stale | Cheat::Copycat => {}
            Cheat::Zeros => {
                if let (Ok(mut a), Ok(zero)) = (
                    Artifact::decode(honest, &DecodeOptions::default()),
                    Codebook::new(&[0.0]),
                ) {
                    for t in &mut a.tensors {
                        t.codebook = zero;
                        t.codes.fill(0);
                    }
                    if let Ok(b) = a.encode() {
                        bytes = b;
                    }
                }
            }
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
        if matches!(self, Cheat::RandomData | Cheat::Stale | Cheat::Copycat) {
            return;
        }
        update.bytes = self.tamper(&update.bytes);
        update.digest = *blake3::hash(&update.bytes).as_bytes();
    }
}

/// For [`Cheat::Copycat`]: waits until another hotkey commits an artifact for `window` (or the
/// chain reaches `until_block`) and returns that commitment, to be committed again as one's own.
pub async fn copy_target(
    chain: &Client,
    netuid: u16,
    window: u64,
    me: &AccountId32,
    until_block: u64,
) -> Option<Commitment> {
    loop {
        if let Ok(all) = chain.commitments(netuid, BlockSel::Latest).await
            && let Some(found) = all.into_iter().find_map(|c| {
                let theirs = c.kiln()?.ok()?;
                (c.hotkey != *me
                    && theirs.kind == CommitmentKind::Artifact
                    && theirs.window == window)
                    .then_some(theirs)
            })
        {
            return Some(found);
        }
        match chain.current_block().await {
            Ok(b) if b >= until_block => return None,
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
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
        // Zeros: still a valid artifact, with the same positions, and nothing in it.
        let zeros = Artifact::decode(&Cheat::Zeros.tamper(&good), &opts).unwrap();
        let honest = Artifact::decode(&good, &opts).unwrap();
        assert_eq!(zeros.header, honest.header);
        assert_eq!(zeros.tensors[0].indices, honest.tensors[0].indices);
        assert!(honest.tensors[0].norm() > 0.0);
        assert_eq!(zeros.tensors[0].norm(), 0.0);
        for c in [Cheat::Stale, Cheat::Copycat] {
            assert_eq!(c.tamper(&good), good);
        }
        for c in Cheat::ALL {
            assert_eq!(c.name().parse::<Cheat>().unwrap(), c);
        }
        assert!("lazy".parse::<Cheat>().is_err());
    }
}
