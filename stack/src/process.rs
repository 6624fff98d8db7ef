//! A `kiln` child process: its stdout lines arrive on a channel (JSON events parsed, other
//! lines as strings), its stderr goes to a log file, and it dies with its parent.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// Set in a child's environment: the child exits when its stdin closes, i.e. when the parent
/// is gone, however it went (see `kiln`'s `main`).
pub const EXIT_WITH_PARENT: &str = "KILN_EXIT_WITH_PARENT";

/// Why a child process failed.
#[derive(Debug, Error)]
pub enum ProcError {
    /// It could not be started.
    #[error("starting `kiln {what}` ({bin}): {source}")]
    Spawn {
        /// The subcommand.
        what: String,
        /// The binary.
        bin: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Its log file could not be created.
    #[error("creating the log {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// It exited (or closed its output) while something was expected of it.
    #[error("`kiln {what}` exited ({status}); its log: {log}")]
    Exited {
        /// The subcommand.
        what: String,
        /// How it ended, as far as known.
        status: String,
        /// Its stderr.
        log: PathBuf,
    },
    /// It printed nothing expected in time.
    #[error("`kiln {what}` said nothing expected within {secs} s; its log: {log}")]
    Silent {
        /// The subcommand.
        what: String,
        /// The wait.
        secs: u64,
        /// Its stderr.
        log: PathBuf,
    },
}

/// A supervised child: killed on drop.
#[derive(Debug)]
pub struct Proc {
    what: String,
    child: Child,
    stdin: Option<ChildStdin>,
    events: UnboundedReceiver<Value>,
    log: PathBuf,
}

impl Proc {
    /// Starts `bin args…` with stderr appended to `log` and `env` set.
    pub fn spawn(
        bin: &Path,
        args: &[String],
        env: &[(&str, &str)],
        log: &Path,
    ) -> Result<Self, ProcError> {
        let what = args.first().cloned().unwrap_or_default();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| ProcError::Log {
                path: log.to_path_buf(),
                source,
            })?;
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env(EXIT_WITH_PARENT, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(file))
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|source| ProcError::Spawn {
            what: what.clone(),
            bin: bin.to_path_buf(),
            source,
        })?;
        let (tx, events) = unbounded_channel();
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let v = serde_json::from_str(&line).unwrap_or(Value::String(line));
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Self {
            what,
            stdin: child.stdin.take(),
            child,
            events,
            log: log.to_path_buf(),
        })
    }

    /// The next line it printed, within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Result<Value, ProcError> {
        match tokio::time::timeout(wait, self.events.recv()).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.exited().await),
            Err(_) => Err(ProcError::Silent {
                what: self.what.clone(),
                secs: wait.as_secs(),
                log: self.log.clone(),
            }),
        }
    }

    /// A line already printed, if any (never waits).
    pub fn try_next(&mut self) -> Option<Value> {
        self.events.try_recv().ok()
    }

    /// Waits for the first line `pick` accepts, returning what it made of it.
    pub async fn wait_for<T>(
        &mut self,
        wait: Duration,
        mut pick: impl FnMut(&Value) -> Option<T>,
    ) -> Result<T, ProcError> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            let v = self.next(left).await.map_err(|e| match e {
                ProcError::Silent { what, log, .. } => ProcError::Silent {
                    what,
                    secs: wait.as_secs(),
                    log,
                },
                e => e,
            })?;
            if let Some(t) = pick(&v) {
                return Ok(t);
            }
        }
    }

    async fn exited(&mut self) -> ProcError {
        let status = match tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await {
            Ok(Ok(s)) => s.to_string(),
            _ => "output closed".into(),
        };
        ProcError::Exited {
            what: self.what.clone(),
            status,
            log: self.log.clone(),
        }
    }

    /// How it ended, once it has (never waits).
    pub fn try_exit(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(s)) => Some(s.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }

    /// Its process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Its stderr log.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Waits for it to exit on its own; `Ok` if it succeeded.
    pub async fn wait_success(&mut self) -> Result<(), ProcError> {
        match self.child.wait().await {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(ProcError::Exited {
                what: self.what.clone(),
                status: s.to_string(),
                log: self.log.clone(),
            }),
            Err(e) => Err(ProcError::Exited {
                what: self.what.clone(),
                status: e.to_string(),
                log: self.log.clone(),
            }),
        }
    }

    /// `kill -9`, as a crash would.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Asks it to stop (SIGTERM), then kills it after `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        self.stdin.take();
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            self.kill().await;
        }
    }
}
