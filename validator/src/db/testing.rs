//! A throwaway database per test on the machine's Postgres.

use super::{Db, DbError};
use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};

/// The server tests use: `KILN_TEST_DATABASE_URL`, else `DATABASE_URL`, else
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn admin_url() -> String {
    std::env::var("KILN_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database, migrated; [`TestDb::drop_database`] removes it.
#[derive(Debug)]
pub struct TestDb {
    /// The connection.
    pub db: Db,
    /// Its URL.
    pub url: String,
    name: String,
}

impl TestDb {
    /// Creates a database with a unique name.
    pub async fn new() -> Result<Self, DbError> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "kiln_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let admin = admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin).await?;
        // The name is ours: digits and underscores only.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Ok(TestDb {
            db: Db::connect(&url).await?,
            url,
            name,
        })
    }

    /// Closes the pool and drops the database.
    pub async fn drop_database(self) -> Result<(), DbError> {
        self.db.pool.close().await;
        let mut conn = sqlx::PgConnection::connect(&admin_url()).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await?;
        Ok(())
    }
}

/// A plausible scored window of `miners` uids (0..miners), deterministic in `window`: most
/// miners evaluated, every seventh missing, every eleventh a copy of uid 0 with its penalty.
/// For API tests and benchmarks; written with [`Db::persist_window`] like a real one.
pub fn synthetic_record(window: u64, miners: u16) -> super::WindowRecord {
    use super::{EvaluationRow, ScoreRow, SubmissionRow};
    use crate::rating::Rating;
    use crate::score::{Penalty, Standing};
    let mut record = super::WindowRecord {
        window,
        start_block: window * 20,
        deadline: window * 20 + 24,
        seed_block: window * 20 + 25,
        random_seed: [(window % 251) as u8; 32],
        base_model_hash: [(window % 13) as u8; 32],
        duration_ms: 1000 + window % 100,
        model_loss: Some(6.0 - window as f64 * 1e-3),
        submissions: Vec::new(),
        evaluations: Vec::new(),
        scores: Vec::new(),
    };
    for uid in 0..miners {
        let x = f64::from(uid) + window as f64 * 0.01;
        let outcome = match uid {
            u if u % 7 == 3 => "missing",
            u if u % 11 == 5 => "copy",
            _ => "evaluated",
        };
        let committed = outcome != "missing";
        record.submissions.push(SubmissionRow {
            uid,
            hotkey: format!("hotkey-{uid}"),
            digest: committed.then(|| *blake3::hash(&[uid as u8, window as u8]).as_bytes()),
            byte_len: committed.then_some(40_000 + u64::from(uid)),
            commit_block: committed.then_some(window * 20 + 3),
            locator: committed.then(|| "gw".to_owned()),
            outcome: outcome.to_owned(),
            detail: (outcome == "copy").then(|| "copy of uid 0".to_owned()),
        });
        if outcome == "evaluated" {
            record.evaluations.push(EvaluationRow {
                uid,
                loss_rand_before: 6.0,
                loss_rand_after: 6.0 - 0.001 * x,
                loss_own_before: 6.1,
                loss_own_after: 6.1 - 0.002 * x,
                loss_score: 0.001 * x / 6.0,
                indicator: if uid % 5 == 4 { -1 } else { 1 },
                behind: Some(0),
                own_rows: 32,
                random_rows: 32,
                eval_lr: 0.08,
                device: "cpu".to_owned(),
                duration_ms: 90,
            });
        }
        let penalties = match outcome {
            "missing" => vec![Penalty {
                reason: "missing".to_owned(),
                factor: 0.75,
            }],
            "copy" => vec![Penalty {
                reason: "copy of uid 0".to_owned(),
                factor: 0.0,
            }],
            _ => Vec::new(),
        };
        let final_score = if outcome == "evaluated" {
            0.01 * x
        } else {
            0.0
        };
        record.scores.push(ScoreRow {
            uid,
            hotkey: format!("hotkey-{uid}"),
            verdict: outcome.to_owned(),
            standing: Standing {
                rating: Rating {
                    mu: 25.0 + x * 0.1,
                    sigma: 8.0 - (window % 8) as f64 * 0.5,
                },
                bma: if uid % 5 == 4 { -0.2 } else { 0.3 },
                sync: 1.0,
                misses: u32::from(outcome == "missing"),
            },
            penalties,
            final_score,
        });
    }
    record
}
