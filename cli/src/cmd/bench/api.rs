//! `kiln bench api`: requests per second and latency percentiles of the dashboard API over a
//! scratch Postgres database filled with the validator's own persistence code.

use anyhow::{Context, Result, bail};
use clap::Args;
use kiln_protocol::Hparams;
use kiln_storage_gateway::server::prometheus;
use kiln_validator::db::NeuronRow;
use kiln_validator::db::testing::{TestDb, synthetic_record};
use kiln_validator::http::{self, Health, HttpOptions, HttpState};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `kiln bench api`.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// Miners per window.
    #[arg(long, default_value_t = 256)]
    miners: u16,
    /// Scored windows in the database.
    #[arg(long, default_value_t = 1000)]
    windows: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Seconds of load per endpoint.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

pub(crate) fn run(a: ApiArgs) -> Result<()> {
    if a.miners == 0 || a.windows == 0 || a.connections == 0 {
        bail!("--miners, --windows and --connections must be positive");
    }
    crate::cmd::block_on(bench(a))
}

async fn bench(a: ApiArgs) -> Result<()> {
    let t = TestDb::new().await.context(
        "creating a scratch database (KILN_TEST_DATABASE_URL, DATABASE_URL or \
         postgres://postgres@127.0.0.1:5432/postgres)",
    )?;
    let result = load(&a, &t).await;
    t.drop_database().await?;
    result
}

async fn load(a: &ApiArgs, t: &TestDb) -> Result<()> {
    let db = &t.db;
    let hparams = Hparams::tiny();
    db.claim(1, "bench-validator", &hparams.hparams_hash(), &[0; 32])
        .await?;
    let started = Instant::now();
    for w in 0..a.windows {
        db.persist_window(&synthetic_record(w, a.miners)).await?;
        let weights: Vec<(u16, f64)> = (0..a.miners.min(20)).map(|u| (u, 0.05)).collect();
        db.weights_pending(w, &weights, 0).await?;
        db.weights_done(w, "included", Some(w * 20 + 30), Some(&[1; 32]), None)
            .await?;
    }
    let neurons: Vec<NeuronRow> = (0..a.miners)
        .map(|uid| NeuronRow {
            uid,
            hotkey: format!("hotkey-{uid}"),
            coldkey: "coldkey".into(),
            stake: 0,
            validator_permit: false,
            active: true,
            last_update: 0,
            incentive: 1.0 / f64::from(a.miners),
            dividends: 0.0,
            consensus: 0.0,
            emission: 0,
        })
        .collect();
    db.save_neurons(a.windows * 20, &neurons).await?;
    println!(
        "filled {} windows x {} miners in {:.1} s",
        a.windows,
        a.miners,
        started.elapsed().as_secs_f64()
    );
    let state = HttpState {
        db: db.clone(),
        health: Arc::new(Health::default()),
        stale_after: Duration::MAX,
        prometheus: prometheus(),
        chain: None,
        clock: Some(hparams.window_clock()?),
    };
    let app = http::router(state, &HttpOptions::default())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(http::serve(listener, app, std::future::pending()));
    println!(
        "{:<32} {:>10} {:>10} {:>10} {:>10}",
        "endpoint", "requests/s", "p50 ms", "p99 ms", "errors"
    );
    let mid = a.windows / 2;
    for path in [
        "/api/v1/miners".to_string(),
        format!("/api/v1/windows/{mid}"),
        "/api/v1/windows?limit=50".to_string(),
        "/api/v1/miners/1/history?limit=100".to_string(),
    ] {
        let url = format!("http://{addr}{path}");
        let (rps, mut lat, errors) = hammer(&url, a.connections, a.seconds).await?;
        lat.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
                .map_or(f64::NAN, |s| s * 1e3)
        };
        println!(
            "{path:<32} {rps:>10.0} {:>10.2} {:>10.2} {errors:>10}",
            pct(0.5),
            pct(0.99)
        );
    }
    server.abort();
    Ok(())
}

/// `connections` clients requesting `url` back to back for `seconds`: requests per second, every
/// latency (seconds) and the count of non-200 answers.
async fn hammer(url: &str, connections: usize, seconds: u64) -> Result<(f64, Vec<f64>, u64)> {
    let client = reqwest::Client::builder().build()?;
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < until {
                    let t = Instant::now();
                    let ok = match client.get(&url).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    lat.push(t.elapsed().as_secs_f64());
                    errors += u64::from(!ok);
                }
                (lat, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (lat, e) = task.await?;
        all.extend(lat);
        errors += e;
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    Ok((rps, all, errors))
}
