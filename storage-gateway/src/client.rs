//! A typed client of the gateway (used by miners and validators): signed uploads, verified
//! downloads, retries with backoff on transport errors, 5xx and 429, per-request timeouts.

use crate::auth::UploadClaim;
use bytes::Bytes;
use std::time::Duration;
use subxt_signer::sr25519::Keypair;
use thiserror::Error;

/// Why a gateway request failed.
#[derive(Debug, Error)]
pub enum GatewayClientError {
    /// The gateway refused the request (its JSON error code and message).
    #[error("gateway refused ({status} {code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The gateway's error code, e.g. `unregistered`.
        code: String,
        /// Its message.
        message: String,
    },
    /// No artifact with this digest.
    #[error("no artifact {0}")]
    NotFound(String),
    /// The bytes received do not hash to the requested digest.
    #[error("downloaded bytes do not hash to {0}")]
    DigestMismatch(String),
    /// The connection failed after every retry.
    #[error("transport: {0}")]
    Transport(String),
}

impl GatewayClientError {
    /// Whether the failure is on the gateway's side or the network's (no connection, a 5xx,
    /// or 429), so that the same request may succeed later; refusals of the request itself
    /// (unregistered, bad signature, too large) are not.
    pub fn is_transient(&self) -> bool {
        match self {
            GatewayClientError::Transport(_) => true,
            GatewayClientError::Refused { status, .. } => *status >= 500 || *status == 429,
            GatewayClientError::NotFound(_) | GatewayClientError::DigestMismatch(_) => false,
        }
    }
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadReceipt {
    /// blake3 of the bytes.
    pub digest: [u8; 32],
    /// `false` when the gateway already had them.
    pub stored: bool,
}

/// A gateway client.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    base: String,
    netuid: u16,
    http: reqwest::Client,
    retries: u32,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl GatewayClient {
    /// A client of the gateway at `base` (`http://host:port`) for `netuid`, with `timeout` per
    /// request and up to `retries` retries.
    pub fn new(
        base: &str,
        netuid: u16,
        timeout: Duration,
        retries: u32,
    ) -> Result<Self, GatewayClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| GatewayClientError::Transport(e.to_string()))?;
        Ok(GatewayClient {
            base: base.trim_end_matches('/').to_owned(),
            netuid,
            http,
            retries,
        })
    }

    fn url(&self, digest: &[u8; 32]) -> String {
        format!("{}/v1/artifacts/{}", self.base, hex::encode(digest))
    }

    /// Sends `request` (rebuilt per attempt), retrying transport errors, 5xx and 429.
    async fn send(
        &self,
        mut build: impl FnMut() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, GatewayClientError> {
        let mut attempt = 0;
        loop {
            let wait = match build().send().await {
                Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                    if attempt >= self.retries {
                        return Ok(r);
                    }
                    r.headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(30)))
                }
                Ok(r) => return Ok(r),
                Err(e) if attempt >= self.retries => {
                    return Err(GatewayClientError::Transport(e.to_string()));
                }
                Err(e) => {
                    tracing::debug!(error = %e, attempt, "gateway request failed; retrying");
                    None
                }
            };
            let backoff = Duration::from_millis(200 << attempt.min(6));
            tokio::time::sleep(wait.unwrap_or(backoff)).await;
            attempt += 1;
        }
    }

    async fn refused(r: reqwest::Response) -> GatewayClientError {
        let status = r.status().as_u16();
        let body: serde_json::Value = match r.bytes().await {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        GatewayClientError::Refused {
            status,
            code: body["error"].as_str().unwrap_or("unknown").to_owned(),
            message: body["message"].as_str().unwrap_or_default().to_owned(),
        }
    }

    /// The same client making one attempt per request (health probes, where a request that
    /// needs a retry has already failed).
    pub fn without_retries(&self) -> GatewayClient {
        GatewayClient {
            retries: 0,
            ..self.clone()
        }
    }

    /// Uploads `bytes`, signed by `hotkey` (re-signed on each retry).
    pub async fn upload(
        &self,
        hotkey: &Keypair,
        bytes: Bytes,
    ) -> Result<UploadReceipt, GatewayClientError> {
        let digest = *blake3::hash(&bytes).as_bytes();
        let url = self.url(&digest);
        let response = self
            .send(|| {
                let claim = UploadClaim {
                    netuid: self.netuid,
                    digest,
                    length: bytes.len() as u64,
                    timestamp_ms: now_ms(),
                };
                let mut req = self.http.put(&url).body(bytes.clone());
                for (name, value) in claim.sign(hotkey) {
                    req = req.header(name, value);
                }
                req
            })
            .await?;
        match response.status().as_u16() {
            201 => Ok(UploadReceipt {
                digest,
                stored: true,
            }),
            200 => Ok(UploadReceipt {
                digest,
                stored: false,
            }),
            _ => Err(Self::refused(response).await),
        }
    }

    /// Downloads `digest` and checks its blake3.
    pub async fn download(&self, digest: &[u8; 32]) -> Result<Bytes, GatewayClientError> {
        let url = self.url(digest);
        let response = self.send(|| self.http.get(&url)).await?;
        match response.status().as_u16() {
            200 => {
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| GatewayClientError::Transport(e.to_string()))?;
                if blake3::hash(&bytes).as_bytes() != digest {
                    return Err(GatewayClientError::DigestMismatch(hex::encode(digest)));
                }
                Ok(bytes)
            }
            404 => Err(GatewayClientError::NotFound(hex::encode(digest))),
            _ => Err(Self::refused(response).await),
        }
    }

    /// Bytes `range` of `digest` (not verifiable alone: the digest covers the whole artifact).
    pub async fn download_range(
        &self,
        digest: &[u8; 32],
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, GatewayClientError> {
        let url = self.url(digest);
        let value = format!("bytes={}-{}", range.start, range.end.saturating_sub(1));
        let response = self
            .send(|| self.http.get(&url).header(reqwest::header::RANGE, &value))
            .await?;
        match response.status().as_u16() {
            206 => response
                .bytes()
                .await
                .map_err(|e| GatewayClientError::Transport(e.to_string())),
            404 => Err(GatewayClientError::NotFound(hex::encode(digest))),
            _ => Err(Self::refused(response).await),
        }
    }

    /// The size of `digest`, if the gateway has it.
    pub async fn head(&self, digest: &[u8; 32]) -> Result<Option<u64>, GatewayClientError> {
        let url = self.url(digest);
        let response = self.send(|| self.http.head(&url)).await?;
        match response.status().as_u16() {
            200 => Ok(response
                .headers()
                .get(reqwest::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())),
            404 => Ok(None),
            status => Err(GatewayClientError::Refused {
                status,
                code: "head_failed".into(),
                message: String::new(),
            }),
        }
    }
}
