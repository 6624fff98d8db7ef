//! Upload authentication: an sr25519 signature by the uploading hotkey over a domain-separated
//! message binding the method, subnet, digest, length and time; a time window and a replay
//! guard. Pure: time comes in as an argument.

use std::collections::{HashMap, VecDeque};
use subxt::utils::AccountId32;
use subxt_signer::sr25519::{self, Keypair, PublicKey, Signature};
use thiserror::Error;

/// Header carrying the uploader's hotkey (SS58).
pub const HOTKEY_HEADER: &str = "x-kiln-hotkey";
/// Header carrying the signing time, unix milliseconds.
pub const TIMESTAMP_HEADER: &str = "x-kiln-timestamp";
/// Header carrying the signature, `0x` + 128 hex digits.
pub const SIGNATURE_HEADER: &str = "x-kiln-signature";
/// Domain separator of the signed message.
pub const DOMAIN: &[u8] = b"kiln-gateway-upload-v1";

/// What an upload signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadClaim {
    /// The subnet the uploader is registered on.
    pub netuid: u16,
    /// blake3 of the body.
    pub digest: [u8; 32],
    /// Body length in bytes.
    pub length: u64,
    /// Signing time, unix milliseconds.
    pub timestamp_ms: u64,
}

impl UploadClaim {
    /// The signed message: `DOMAIN ‖ 0 ‖ "PUT" ‖ netuid (u16 LE) ‖ digest ‖ length (u64 LE) ‖
    /// timestamp (u64 LE)`.
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(DOMAIN.len() + 1 + 3 + 2 + 32 + 16);
        m.extend_from_slice(DOMAIN);
        m.push(0);
        m.extend_from_slice(b"PUT");
        m.extend_from_slice(&self.netuid.to_le_bytes());
        m.extend_from_slice(&self.digest);
        m.extend_from_slice(&self.length.to_le_bytes());
        m.extend_from_slice(&self.timestamp_ms.to_le_bytes());
        m
    }

    /// The three header values (hotkey, timestamp, signature) for this claim signed by `pair`.
    pub fn sign(&self, pair: &Keypair) -> [(&'static str, String); 3] {
        let signature = pair.sign(&self.message());
        [
            (HOTKEY_HEADER, pair.public_key().to_account_id().to_string()),
            (TIMESTAMP_HEADER, self.timestamp_ms.to_string()),
            (SIGNATURE_HEADER, format!("0x{}", hex::encode(signature.0))),
        ]
    }
}

/// Why an upload is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// A required header is absent.
    #[error("missing header {0}")]
    Missing(&'static str),
    /// A header is malformed.
    #[error("malformed header {0}")]
    Malformed(&'static str),
    /// The signature does not verify for the hotkey and claim.
    #[error("signature does not verify for this hotkey, digest, length and time")]
    BadSignature,
    /// The timestamp is outside the accepted window.
    #[error(
        "timestamp {timestamp_ms} is more than {window_ms} ms from the gateway's clock {now_ms}"
    )]
    Stale {
        /// The signed time.
        timestamp_ms: u64,
        /// The gateway's time.
        now_ms: u64,
        /// The accepted distance.
        window_ms: u64,
    },
    /// This exact signature was already used.
    #[error("signature already used (replay)")]
    Replayed,
}

/// The raw header values of an upload.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthHeaders<'a> {
    /// [`HOTKEY_HEADER`].
    pub hotkey: Option<&'a str>,
    /// [`TIMESTAMP_HEADER`].
    pub timestamp: Option<&'a str>,
    /// [`SIGNATURE_HEADER`].
    pub signature: Option<&'a str>,
}

/// An upload request's claim as its headers state it, signature not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The hotkey the request names.
    pub hotkey: AccountId32,
    /// The claim it says it signed.
    pub claim: UploadClaim,
    /// The signature bytes.
    pub signature: [u8; 64],
}

/// A parsed, signature-checked upload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The uploader.
    pub hotkey: AccountId32,
    /// The claim it signed.
    pub claim: UploadClaim,
    /// The signature bytes (for the replay guard).
    pub signature: [u8; 64],
}

/// Parses the headers of a request for `digest` and `length`: no cryptography.
pub fn parse(
    headers: AuthHeaders<'_>,
    netuid: u16,
    digest: [u8; 32],
    length: u64,
) -> Result<Claimed, AuthError> {
    let hotkey = headers.hotkey.ok_or(AuthError::Missing(HOTKEY_HEADER))?;
    let timestamp = headers
        .timestamp
        .ok_or(AuthError::Missing(TIMESTAMP_HEADER))?;
    let signature = headers
        .signature
        .ok_or(AuthError::Missing(SIGNATURE_HEADER))?;
    let hotkey: AccountId32 = hotkey
        .parse()
        .map_err(|_| AuthError::Malformed(HOTKEY_HEADER))?;
    let timestamp_ms: u64 = timestamp
        .parse()
        .map_err(|_| AuthError::Malformed(TIMESTAMP_HEADER))?;
    let mut sig = [0u8; 64];
    hex::decode_to_slice(signature.strip_prefix("0x").unwrap_or(signature), &mut sig)
        .map_err(|_| AuthError::Malformed(SIGNATURE_HEADER))?;
    Ok(Claimed {
        hotkey,
        claim: UploadClaim {
            netuid,
            digest,
            length,
            timestamp_ms,
        },
        signature: sig,
    })
}

impl Claimed {
    /// Refuses a claim signed more than `window_ms` from `now_ms` (before any cryptography).
    pub fn check_time(&self, now_ms: u64, window_ms: u64) -> Result<(), AuthError> {
        let timestamp_ms = self.claim.timestamp_ms;
        if timestamp_ms.abs_diff(now_ms) > window_ms {
            return Err(AuthError::Stale {
                timestamp_ms,
                now_ms,
                window_ms,
            });
        }
        Ok(())
    }

    /// Checks the sr25519 signature of the hotkey over the claim.
    pub fn verify(self) -> Result<Verified, AuthError> {
        let Claimed {
            hotkey,
            claim,
            signature,
        } = self;
        if !sr25519::verify(&Signature(signature), claim.message(), &PublicKey(hotkey.0)) {
            return Err(AuthError::BadSignature);
        }
        Ok(Verified {
            hotkey,
            claim,
            signature,
        })
    }
}

/// Checks headers against the digest and length of the request, at `now_ms`: parse, time
/// window, then signature (the cheap checks first).
pub fn verify(
    headers: AuthHeaders<'_>,
    netuid: u16,
    digest: [u8; 32],
    length: u64,
    now_ms: u64,
    window_ms: u64,
) -> Result<Verified, AuthError> {
    let claimed = parse(headers, netuid, digest, length)?;
    claimed.check_time(now_ms, window_ms)?;
    claimed.verify()
}

/// Remembers signatures seen within the time window so none is accepted twice. Bounded: the
/// oldest entries are forgotten first, and entries older than the window can no longer verify.
#[derive(Debug)]
pub struct ReplayGuard {
    window_ms: u64,
    capacity: usize,
    seen: HashMap<[u8; 64], u64>,
    order: VecDeque<([u8; 64], u64)>,
}

impl ReplayGuard {
    /// A guard for signatures valid `window_ms` around their time, remembering at most
    /// `capacity` of them.
    pub fn new(window_ms: u64, capacity: usize) -> Self {
        ReplayGuard {
            window_ms,
            capacity: capacity.max(1),
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Records `v`'s signature, or refuses it if it was seen.
    pub fn check(&mut self, v: &Verified, now_ms: u64) -> Result<(), AuthError> {
        while let Some(&(sig, t)) = self.order.front() {
            let expired = t.saturating_add(2 * self.window_ms) < now_ms;
            if expired || self.order.len() >= self.capacity {
                self.order.pop_front();
                self.seen.remove(&sig);
            } else {
                break;
            }
        }
        if self.seen.contains_key(&v.signature) {
            return Err(AuthError::Replayed);
        }
        self.seen.insert(v.signature, v.claim.timestamp_ms);
        self.order.push_back((v.signature, v.claim.timestamp_ms));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use subxt_signer::sr25519::dev;

    fn headers<'a>(h: &'a [(&'static str, String); 3]) -> AuthHeaders<'a> {
        AuthHeaders {
            hotkey: Some(&h[0].1),
            timestamp: Some(&h[1].1),
            signature: Some(&h[2].1),
        }
    }

    #[test]
    fn a_signature_binds_every_field() {
        let claim = UploadClaim {
            netuid: 1,
            digest: [7; 32],
            length: 100,
            timestamp_ms: 1_000_000,
        };
        let h = claim.sign(&dev::bob());
        let ok = verify(headers(&h), 1, [7; 32], 100, 1_000_500, 60_000).unwrap();
        assert_eq!(ok.hotkey, dev::bob().public_key().to_account_id());
        for (netuid, digest, length) in [(2, [7; 32], 100), (1, [8; 32], 100), (1, [7; 32], 101)] {
            assert_eq!(
                verify(headers(&h), netuid, digest, length, 1_000_000, 60_000),
                Err(AuthError::BadSignature)
            );
        }
        let mut forged = h.clone();
        forged[0].1 = dev::alice().public_key().to_account_id().to_string();
        assert_eq!(
            verify(headers(&forged), 1, [7; 32], 100, 1_000_000, 60_000),
            Err(AuthError::BadSignature)
        );
        assert!(matches!(
            verify(headers(&h), 1, [7; 32], 100, 1_000_000 + 60_001, 60_000),
            Err(AuthError::Stale { .. })
        ));
        // The time window is checked before the signature: a stale forgery costs no
        // cryptography.
        assert!(matches!(
            verify(
                headers(&forged),
                1,
                [7; 32],
                100,
                1_000_000 + 60_001,
                60_000
            ),
            Err(AuthError::Stale { .. })
        ));
        let none = AuthHeaders::default();
        assert_eq!(
            verify(none, 1, [7; 32], 100, 0, 1),
            Err(AuthError::Missing(HOTKEY_HEADER))
        );
    }

    #[test]
    fn replays_are_refused_and_memory_is_bounded() {
        let mut guard = ReplayGuard::new(1_000, 4);
        let mut verified = Vec::new();
        for i in 0..6u64 {
            let claim = UploadClaim {
                netuid: 1,
                digest: [i as u8; 32],
                length: 1,
                timestamp_ms: 10_000,
            };
            let h = claim.sign(&dev::bob());
            verified.push(verify(headers(&h), 1, [i as u8; 32], 1, 10_000, 1_000).unwrap());
        }
        assert!(guard.check(&verified[0], 10_000).is_ok());
        assert_eq!(guard.check(&verified[0], 10_000), Err(AuthError::Replayed));
        for v in &verified[1..] {
            guard.check(v, 10_000).unwrap();
        }
        assert!(guard.seen.len() <= 4);
    }
}
