//! A window's rows, one `INSERT … SELECT FROM UNNEST(…)` per table: four statements per window
//! whatever the number of miners.

use super::{DbError, EvaluationRow, ScoreRow, SubmissionRow, i64_of};
use sqlx::{Postgres, Transaction};

fn opt_i64(v: Option<u64>, what: &'static str) -> Result<Option<i64>, DbError> {
    v.map(|x| i64_of(x, what)).transpose()
}

pub(super) async fn insert_submissions(
    tx: &mut Transaction<'_, Postgres>,
    w: i64,
    rows: &[SubmissionRow],
) -> Result<(), DbError> {
    let uid: Vec<i32> = rows.iter().map(|s| i32::from(s.uid)).collect();
    let hotkey: Vec<&str> = rows.iter().map(|s| s.hotkey.as_str()).collect();
    let digest: Vec<Option<Vec<u8>>> = rows.iter().map(|s| s.digest.map(|d| d.to_vec())).collect();
    let byte_len = rows
        .iter()
        .map(|s| opt_i64(s.byte_len, "byte_len"))
        .collect::<Result<Vec<_>, _>>()?;
    let commit_block = rows
        .iter()
        .map(|s| opt_i64(s.commit_block, "commit_block"))
        .collect::<Result<Vec<_>, _>>()?;
    let locator: Vec<Option<&str>> = rows.iter().map(|s| s.locator.as_deref()).collect();
    let outcome: Vec<&str> = rows.iter().map(|s| s.outcome.as_str()).collect();
    let detail: Vec<Option<&str>> = rows.iter().map(|s| s.detail.as_deref()).collect();
    sqlx::query(
        "INSERT INTO submissions (win, uid, hotkey, digest, byte_len, commit_block, locator,
                                  outcome, detail)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::bytea[], $5::bigint[],
                                  $6::bigint[], $7::text[], $8::text[], $9::text[])",
    )
    .bind(w)
    .bind(uid)
    .bind(hotkey)
    .bind(digest)
    .bind(byte_len)
    .bind(commit_block)
    .bind(locator)
    .bind(outcome)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn insert_evaluations(
    tx: &mut Transaction<'_, Postgres>,
    w: i64,
    rows: &[EvaluationRow],
) -> Result<(), DbError> {
    let col = |f: fn(&EvaluationRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let duration = rows
        .iter()
        .map(|e| i64_of(e.duration_ms, "duration_ms"))
        .collect::<Result<Vec<_>, _>>()?;
    sqlx::query(
        "INSERT INTO evaluations (win, uid, loss_rand_before, loss_rand_after,
             loss_own_before, loss_own_after, loss_score, indicator, behind, own_rows,
             random_rows, eval_lr, device, duration_ms)
         SELECT $1, * FROM UNNEST($2::int[], $3::float8[], $4::float8[], $5::float8[],
             $6::float8[], $7::float8[], $8::int2[], $9::int[], $10::int[], $11::int[],
             $12::float8[], $13::text[], $14::bigint[])",
    )
    .bind(w)
    .bind(rows.iter().map(|e| i32::from(e.uid)).collect::<Vec<_>>())
    .bind(col(|e| e.loss_rand_before))
    .bind(col(|e| e.loss_rand_after))
    .bind(col(|e| e.loss_own_before))
    .bind(col(|e| e.loss_own_after))
    .bind(col(|e| e.loss_score))
    .bind(
        rows.iter()
            .map(|e| i16::from(e.indicator))
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|e| e.behind.map(|b| b.min(i32::MAX as u32) as i32))
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|e| e.own_rows as i32).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|e| e.random_rows as i32)
            .collect::<Vec<_>>(),
    )
    .bind(col(|e| e.eval_lr))
    .bind(rows.iter().map(|e| e.device.as_str()).collect::<Vec<_>>())
    .bind(duration)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn insert_scores(
    tx: &mut Transaction<'_, Postgres>,
    w: i64,
    rows: &[ScoreRow],
) -> Result<(), DbError> {
    let col = |f: fn(&ScoreRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    sqlx::query(
        "INSERT INTO scores (win, uid, hotkey, verdict, mu, sigma, bma, sync, misses,
                             final_score)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::float8[],
             $6::float8[], $7::float8[], $8::float8[], $9::int[], $10::float8[])",
    )
    .bind(w)
    .bind(rows.iter().map(|s| i32::from(s.uid)).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.hotkey.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.verdict.as_str()).collect::<Vec<_>>())
    .bind(col(|s| s.standing.rating.mu))
    .bind(col(|s| s.standing.rating.sigma))
    .bind(col(|s| s.standing.bma))
    .bind(col(|s| s.standing.sync))
    .bind(
        rows.iter()
            .map(|s| s.standing.misses.min(i32::MAX as u32) as i32)
            .collect::<Vec<_>>(),
    )
    .bind(col(|s| s.final_score))
    .execute(&mut **tx)
    .await?;
    let penalties: Vec<(i32, &str, f64)> = rows
        .iter()
        .flat_map(|s| {
            s.penalties
                .iter()
                .map(|p| (i32::from(s.uid), p.reason.as_str(), p.factor))
        })
        .collect();
    sqlx::query(
        "INSERT INTO penalties (win, uid, reason, factor)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::float8[])",
    )
    .bind(w)
    .bind(penalties.iter().map(|p| p.0).collect::<Vec<_>>())
    .bind(penalties.iter().map(|p| p.1).collect::<Vec<_>>())
    .bind(penalties.iter().map(|p| p.2).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
