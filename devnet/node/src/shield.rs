//! The block author's side of `MevShield`: a `submit_encrypted` carrier's ciphertext is
//! decrypted with the author's key (`kiln-shield`) and must hold exactly one canonically
//! encoded extrinsic, which the author applies right after the carrier.

use codec::{DecodeLimit, Encode};
use kiln_devnet_runtime::shield::{self, ShieldKeyPair};
use kiln_devnet_runtime::{RuntimeCall, UncheckedExtrinsic};
use kiln_shield::ShieldError;
use thiserror::Error;

/// How deeply an extrinsic's calls may nest when decoded (subtensor's bound).
const MAX_EXTRINSIC_DEPTH: u32 = 8;

/// Why a carrier yields no inner extrinsic.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnshieldError {
    /// The ciphertext does not open with the author's key.
    #[error(transparent)]
    Cipher(#[from] ShieldError),
    /// The plaintext is not one canonically encoded extrinsic.
    #[error("the plaintext is not an extrinsic")]
    NotAnExtrinsic,
}

/// The carrier's `ciphertext` when `xt` is a `MevShield.submit_encrypted` extrinsic.
fn carried(xt: &[u8]) -> Option<Vec<u8>> {
    let xt =
        UncheckedExtrinsic::decode_all_with_depth_limit(MAX_EXTRINSIC_DEPTH, &mut &xt[..]).ok()?;
    match xt.function {
        RuntimeCall::MevShield(shield::Call::submit_encrypted { ciphertext }) => {
            Some(ciphertext.into_inner())
        }
        _ => None,
    }
}

/// The inner extrinsic's bytes when `xt` is a `MevShield.submit_encrypted` carrier (`None`
/// for any other extrinsic): decrypted with `key` and decoded as one canonically encoded
/// extrinsic, so it hashes as its signer computed.
pub fn unshield(key: &ShieldKeyPair, xt: &[u8]) -> Option<Result<Vec<u8>, UnshieldError>> {
    let ciphertext = carried(xt)?;
    Some(
        kiln_shield::decrypt(key, &ciphertext)
            .map_err(UnshieldError::from)
            .and_then(|plain| {
                let inner = UncheckedExtrinsic::decode_all_with_depth_limit(
                    MAX_EXTRINSIC_DEPTH,
                    &mut &plain[..],
                )
                .map_err(|_| UnshieldError::NotAnExtrinsic)?;
                if inner.encode() == plain {
                    Ok(plain)
                } else {
                    Err(UnshieldError::NotAnExtrinsic)
                }
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_carriers_unshield_and_garbage_never_panics() {
        // The ciphertext itself is fuzzed in `kiln-shield`; here, extrinsic-shaped garbage.
        let key = ShieldKeyPair::from_seed(b"shield test");
        for len in 0..300u32 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect();
            assert!(unshield(&key, &bytes).is_none_or(|r| r.is_err()));
        }
    }
}
