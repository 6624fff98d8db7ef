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
