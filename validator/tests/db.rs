//! Persistence on the real Postgres, each test in its own database.

use kiln_validator::db::testing::TestDb;
use kiln_validator::db::{
    DbError, EvaluationRow, Persisted, ScoreRow, Stop, SubmissionRow, WindowRecord,
};
use kiln_validator::score::{Penalty, Standing};
use std::collections::BTreeMap;

fn record(window: u64) -> WindowRecord {
    let standing = |bma| Standing {
        bma,
        ..Standing::default()
    };
    WindowRecord {
        window,
        start_block: window * 20,
        deadline: window * 20 + 24,
        seed_block: window * 20 + 25,
        random_seed: [window as u8; 32],
        base_model_hash: [1; 32],
        duration_ms: 1200,
        model_loss: Some(5.0 + window as f64 / 4.0),
        submissions: vec![
            SubmissionRow {
                uid: 1,
                hotkey: "hk1".into(),
                digest: Some([2; 32]),
                byte_len: Some(1000),
                commit_block: Some(window * 20 + 5),
                locator: Some("gw".into()),
                outcome: "evaluated".into(),
                detail: None,
            },
            SubmissionRow {
                uid: 2,
                hotkey: "hk2".into(),
                digest: None,
                byte_len: None,
                commit_block: None,
                locator: None,
                outcome: "missing".into(),
                detail: None,
            },
        ],
        evaluations: vec![EvaluationRow {
            uid: 1,
            loss_rand_before: 6.2,
            loss_rand_after: 6.1,
            loss_own_before: 6.3,
            loss_own_after: 6.0,
            loss_score: 0.1 / 6.2,
            indicator: 1,
            behind: Some(0),
            own_rows: 32,
            random_rows: 32,
            eval_lr: 0.08,
            device: "cpu".into(),
            duration_ms: 300,
        }],
        scores: vec![
            ScoreRow {
                uid: 1,
                hotkey: "hk1".into(),
                verdict: "evaluated".into(),
                standing: standing(0.05 * window as f64),
                penalties: vec![],
                final_score: 0.4,
            },
            ScoreRow {
                uid: 2,
                hotkey: "hk2".into(),
                verdict: "missing".into(),
                standing: Standing {
                    misses: 1,
                    ..standing(0.0)
                },
                penalties: vec![Penalty {
                    reason: "missing (consecutive miss 1)".into(),
                    factor: 0.75,
                }],
                final_score: 0.0,
            },
        ],
    }
}

async fn count(t: &TestDb, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(t.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_window_is_written_once_and_a_crash_leaves_nothing_half_written() {
    let t = TestDb::new().await.unwrap();
    let db = &t.db;
    db.claim(1, "validator", &[7; 32], &[1; 32]).await.unwrap();

    // A crash at any point between the writes of a window leaves no trace of it.
    for stop in [Stop::AfterWindow, Stop::AfterSubmissions, Stop::AfterScores] {
        let err = db
            .persist_window_until(&record(3), Some(stop))
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Interrupted(_)), "{err}");
        for table in [
            "windows",
            "submissions",
            "evaluations",
            "scores",
            "penalties",
        ] {
            assert_eq!(count(&t, table).await, 0, "{table} after {stop:?}");
        }
        assert_eq!(db.state().await.unwrap().unwrap().last_scored_window, None);
    }

    // The restart writes it in full, once.
    assert_eq!(
        db.persist_window(&record(3)).await.unwrap(),
        Persisted::Written
    );
    assert_eq!(
        db.persist_window(&record(3)).await.unwrap(),
        Persisted::AlreadyScored
    );
    assert_eq!(count(&t, "submissions").await, 2);
    assert_eq!(count(&t, "evaluations").await, 1);
    assert_eq!(count(&t, "penalties").await, 1);
    assert_eq!(
        db.state().await.unwrap().unwrap().last_scored_window,
        Some(3)
    );
    assert_eq!(db.final_scores(3).await.unwrap(), [(1, 0.4), (2, 0.0)]);

    // Standings follow the latest window and the hotkey.
    db.persist_window(&record(4)).await.unwrap();
    let hotkeys = BTreeMap::from([(1, "hk1".to_string()), (2, "someone-new".to_string())]);
    let standings = db.standings(&hotkeys).await.unwrap();
    assert_eq!(
        standings.len(),
        1,
        "uid 2 was re-registered: it starts fresh"
    );
    assert!((standings[&1].bma - 0.2).abs() < 1e-12);

    // The model's held-out loss is stored with the window; a loss that is not finite is not.
    let mut unmeasured = record(6);
    unmeasured.model_loss = Some(f64::NAN);
    db.persist_window(&unmeasured).await.unwrap();
    let losses: Vec<(i64, Option<f64>)> =
        sqlx::query_as("SELECT win, model_loss FROM windows ORDER BY win")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(losses, [(3, Some(5.75)), (4, Some(6.0)), (6, None)]);
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn a_weight_vector_is_recorded_before_it_is_sent_and_never_twice() {
    let t = TestDb::new().await.unwrap();
    let db = &t.db;
    db.claim(1, "validator", &[7; 32], &[1; 32]).await.unwrap();
    db.persist_window(&record(5)).await.unwrap();
    let w = [(1u16, 0.75), (4, 0.25)];
    assert!(db.weights_pending(5, &w, 3).await.unwrap());
    // A restart before the answer: the vector is pending, not sendable again.
    assert!(!db.weights_pending(5, &w, 3).await.unwrap());
    let row = db.weights(5).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.uids.as_slice(), row.version_key),
        ("pending", &[1u16, 4][..], 3)
    );
    db.weights_done(5, "included", Some(103), Some(&[9; 32]), None)
        .await
        .unwrap();
    let row = db.weights(5).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.block), ("included", Some(103)));
    // Weights belong to a scored window.
    assert!(db.weights_pending(6, &w, 3).await.is_err());
    t.drop_database().await.unwrap();
}

#[tokio::test]
async fn a_database_serves_one_validator_and_run() {
    let t = TestDb::new().await.unwrap();
    let db = &t.db;
    let s = db.claim(2, "validator", &[7; 32], &[1; 32]).await.unwrap();
    assert_eq!(
        (s.netuid, s.model_hash, s.last_scored_window),
        (2, [1; 32], None)
    );
    db.claim(2, "validator", &[7; 32], &[1; 32]).await.unwrap();
    for (netuid, hotkey, hparams, what) in [
        (3, "validator", [7; 32], "subnet"),
        (2, "other", [7; 32], "validator hotkey"),
        (2, "validator", [8; 32], "hparams hash"),
    ] {
        let err = db
            .claim(netuid, hotkey, &hparams, &[1; 32])
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Mismatch(w) if w == what), "{err}");
    }
    // Migrations are idempotent: connecting again applies nothing new.
    kiln_validator::db::Db::connect(&t.url).await.unwrap();
    t.drop_database().await.unwrap();
}
