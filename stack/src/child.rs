//! A stack component's process under supervision: how to start it again, and its
//! [`Supervisor`]. A process that exits while the stack runs is started again with the same
//! arguments, when its supervisor says so.

use crate::process::{Proc, ProcError};
use crate::report::{Component, ComponentStatus};
use crate::supervise::{Decision, Policy, Status, Supervisor};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A component's process and what it takes to start it again.
#[derive(Debug)]
pub(crate) struct Child {
    component: Component,
    proc: Proc,
    bin: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
    supervisor: Supervisor,
}

impl Child {
    /// Starts `bin args…` as `component`, at `now`, restarted as `policy` says.
    pub(crate) fn spawn(
        component: Component,
        bin: &Path,
        args: Vec<String>,
        env: &[(&str, &str)],
        log: PathBuf,
        policy: Policy,
        now: Duration,
    ) -> Result<Self, ProcError> {
        let proc = Proc::spawn(bin, &args, env, &log)?;
        Ok(Self {
            component,
            proc,
            bin: bin.to_path_buf(),
            args,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            log,
            supervisor: Supervisor::new(policy, now),
        })
    }

    /// Its current process.
    pub(crate) fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }

    /// Its process id, while it runs.
    pub(crate) fn id(&self) -> Option<u32> {
        self.proc.id()
    }

    /// Its stderr log.
    pub(crate) fn log(&self) -> &Path {
        &self.log
    }

    /// Whether its process is meant to be running.
    pub(crate) fn running(&self) -> bool {
        self.supervisor.status() == Status::Running
    }

    /// Where it stands.
    pub(crate) fn status(&self) -> ComponentStatus {
        ComponentStatus {
            component: self.component,
            status: self.supervisor.status(),
            restarts: self.supervisor.restarts(),
        }
    }

    /// Replaces `--flag`'s value in the arguments it is restarted with (a listen address
    /// pinned to the port it got, so that clients find it again).
    pub(crate) fn pin(&mut self, flag: &str, value: &str) {
        if let Some(i) = self.args.iter().position(|a| a == flag)
            && let Some(v) = self.args.get_mut(i + 1)
        {
            *v = value.to_string();
        }
    }

    /// One round of supervision at `now`: notices an exit and starts the process again once
    /// its delay is over.
    pub(crate) fn supervise(&mut self, now: Duration) {
        if self.supervisor.status() == Status::Running
            && let Some(status) = self.proc.try_exit()
        {
            let log = self.log.display();
            match self.supervisor.exited(now) {
                Decision::Restart { after } => tracing::warn!(
                    component = %self.component,
                    "exited ({status}); restarting in {after:?}; its log: {log}"
                ),
                Decision::GiveUp => tracing::error!(
                    component = %self.component,
                    restarts = self.supervisor.restarts(),
                    "exited ({status}); not restarted; its log: {log}"
                ),
                Decision::Ignore => {}
            }
        }
        if self.supervisor.due(now) {
            self.supervisor.restarted(now);
            match self.spawn_again() {
                Ok(proc) => {
                    self.proc = proc;
                    tracing::info!(component = %self.component, "restarted");
                }
                Err(e) => {
                    tracing::warn!(component = %self.component, "restarting: {e}");
                    self.supervisor.exited(now);
                }
            }
        }
    }

    /// `kill -9` on purpose: not counted as a crash.
    pub(crate) async fn kill(&mut self) {
        self.supervisor.stopping();
        self.proc.kill().await;
    }

    /// Starts it again on purpose at `now` (after [`Child::kill`]).
    pub(crate) fn respawn(&mut self, now: Duration) -> Result<(), ProcError> {
        self.proc = self.spawn_again()?;
        self.supervisor.started(now);
        Ok(())
    }

    fn spawn_again(&self) -> Result<Proc, ProcError> {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Proc::spawn(&self.bin, &self.args, &env, &self.log)
    }

    /// Stops it on purpose (SIGTERM, then SIGKILL after `grace`).
    pub(crate) async fn stop(&mut self, grace: Duration) {
        self.supervisor.stopping();
        self.proc.stop(grace).await;
    }
}
