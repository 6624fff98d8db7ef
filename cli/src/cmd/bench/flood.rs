//! The flood of `kiln bench gateway --flood`: uploads no honest miner sends, from their own
//! loopback address. Most are signed by fresh keys (each unknown to the registry), the rest
//! replay an honest upload's signature or announce a body above the size limit.

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::StreamExt;
use kiln_runtime_client::Keypair;
use kiln_storage_gateway::auth::UploadClaim;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

/// The address the flood connects from (the honest client uses 127.0.0.1).
pub(super) const FLOOD_FROM: &str = "127.0.0.3";

/// One prepared request.
pub(super) struct FloodRequest {
    digest: [u8; 32],
    headers: Vec<(&'static str, String)>,
    body: Body,
}

enum Body {
    Small(Bytes),
    /// Zeros of this length, produced as the server reads them.
    Lazy(u64),
}

/// An upload signed by an honest hotkey, whose headers the flood replays.
pub(super) struct Replayable {
    pub(super) digest: [u8; 32],
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Bytes,
}

/// `n` requests for `netuid`: 8 in 10 signed by fresh keys, 1 replaying `replay`, 1 above
/// `max_bytes`.
pub(super) fn prepare(
    n: usize,
    netuid: u16,
    max_bytes: u64,
    now_ms: u64,
    replay: &Replayable,
) -> Result<Vec<FloodRequest>> {
    (0..n)
        .map(|i| {
            Ok(match i % 10 {
                8 => FloodRequest {
                    digest: replay.digest,
                    headers: replay.headers.clone(),
                    body: Body::Small(replay.body.clone()),
                },
                9 => {
                    let digest = [0x55; 32];
                    let claim = UploadClaim {
                        netuid,
                        digest,
                        length: max_bytes + 1,
                        timestamp_ms: now_ms,
                    };
                    let pair = fresh_key(i)?;
                    FloodRequest {
                        digest,
                        headers: claim.sign(&pair).into(),
                        body: Body::Lazy(max_bytes + 1),
                    }
                }
                _ => {
                    let body = Bytes::from(format!("flood {i}"));
                    let digest = *blake3::hash(&body).as_bytes();
                    let claim = UploadClaim {
                        netuid,
                        digest,
                        length: body.len() as u64,
                        timestamp_ms: now_ms,
                    };
                    FloodRequest {
                        digest,
                        headers: claim.sign(&fresh_key(i)?).into(),
                        body: Body::Small(body),
                    }
                }
            })
        })
        .collect()
}

fn fresh_key(i: usize) -> Result<Keypair> {
    let seed = blake3::hash(format!("kiln bench flood key {i}").as_bytes());
    Keypair::from_secret_key(*seed.as_bytes()).context("deriving a flood key")
}

/// What the flood's requests were answered.
#[derive(Debug, Default)]
pub(super) struct FloodOutcome {
    /// Requests sent.
    pub(super) sent: u64,
    /// Answers by HTTP status (`error`: no answer, e.g. the connection was closed mid-body).
    pub(super) answers: BTreeMap<String, u64>,
}

/// Sends `requests` to `url` from [`FLOOD_FROM`] with `concurrency` in flight, cycling through
/// them until all were sent once and `stop` is set.
pub(super) async fn run(
    url: &str,
    requests: &[FloodRequest],
    concurrency: usize,
    stop: &AtomicBool,
) -> Result<FloodOutcome> {
    let from: IpAddr = FLOOD_FROM.parse()?;
    let http = reqwest::Client::builder().local_address(from).build()?;
    let n = requests.len();
    let order = (0..).take_while(|&i| i < n || !stop.load(Ordering::Relaxed));
    let mut answers = futures::stream::iter(order)
        .map(|i| send(&http, url, &requests[i % n]))
        .buffer_unordered(concurrency.max(1));
    let mut outcome = FloodOutcome::default();
    while let Some(answer) = answers.next().await {
        outcome.sent += 1;
        *outcome.answers.entry(answer).or_default() += 1;
    }
    Ok(outcome)
}

async fn send(http: &reqwest::Client, url: &str, r: &FloodRequest) -> String {
    let mut req = http.put(format!("{url}/v1/artifacts/{}", hex::encode(r.digest)));
    for (k, v) in &r.headers {
        req = req.header(*k, v);
    }
    req = match &r.body {
        Body::Small(b) => req.body(b.clone()),
        Body::Lazy(len) => {
            const CHUNK: usize = 64 << 10;
            let zeros = Bytes::from(vec![0u8; CHUNK]);
            let chunks = (*len).div_ceil(CHUNK as u64);
            let last = *len - (chunks - 1) * CHUNK as u64;
            let stream = futures::stream::iter((0..chunks).map(move |c| {
                let take = if c + 1 == chunks {
                    last as usize
                } else {
                    CHUNK
                };
                Ok::<_, std::io::Error>(zeros.slice(..take))
            }));
            req.header(reqwest::header::CONTENT_LENGTH, len.to_string())
                .body(reqwest::Body::wrap_stream(stream))
        }
    };
    match req.send().await {
        Ok(res) => res.status().as_u16().to_string(),
        Err(_) => "error".into(),
    }
}
