//! What the miner reports: per-window outcomes and reports, and its event stream.

use kiln_protocol::Digest;

/// What happened in one window.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The commitment landed in time.
    Committed {
        /// The block that includes it.
        block: u64,
        /// The artifact's blake3.
        digest: Digest,
        /// Its size.
        bytes: u64,
    },
    /// The deadline could not be met; the update stays in the error feedback.
    TooLate {
        /// The window's commit deadline.
        deadline: u64,
        /// The latest block when the miner checked.
        block: u64,
    },
    /// The commitment was included after the deadline; the update stays in the error feedback.
    LateInclusion {
        /// The block that includes it.
        block: u64,
        /// The deadline.
        deadline: u64,
    },
    /// The upload failed; the update stays in the error feedback.
    UploadFailed(String),
    /// The commitment failed; the update stays in the error feedback.
    CommitFailed(String),
    /// The window's rows could not be read; nothing was trained.
    DataFailed(String),
}

impl Outcome {
    /// Every outcome's [`Outcome::name`].
    pub const NAMES: [&'static str; 6] = [
        "committed",
        "too_late",
        "late_inclusion",
        "upload_failed",
        "commit_failed",
        "data_failed",
    ];

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Committed { .. } => "committed",
            Outcome::TooLate { .. } => "too_late",
            Outcome::LateInclusion { .. } => "late_inclusion",
            Outcome::UploadFailed(_) => "upload_failed",
            Outcome::CommitFailed(_) => "commit_failed",
            Outcome::DataFailed(_) => "data_failed",
        }
    }
}

/// A window's report.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowReport {
    /// The window.
    pub window: u64,
    /// What happened.
    pub outcome: Outcome,
    /// State hash of the model trained from.
    pub base_model_hash: Digest,
    /// Mean training loss per inner step.
    pub losses: Vec<f64>,
    /// Tokens trained on.
    pub tokens: usize,
    /// Training time.
    pub train_seconds: f64,
    /// Upload time.
    pub upload_seconds: f64,
    /// Hash of the error feedback as saved at the end of the window.
    pub feedback_hash: Digest,
    /// The miner's incentive on chain (0..1) when the window began.
    pub incentive: f64,
}

/// What the miner reports as it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum MinerEvent {
    /// Start-up finished.
    Started {
        /// The miner's uid.
        uid: u16,
        /// The model's state hash.
        model_hash: Digest,
        /// Hash of the loaded (or fresh) error feedback.
        feedback_hash: Digest,
        /// The last window committed before this start, if any.
        last_window: Option<u64>,
    },
    /// Manifests were applied.
    Synced {
        /// Their windows, in order.
        windows: Vec<u64>,
        /// The model's state hash after them.
        model_hash: Digest,
    },
    /// The previous window's manifest did not arrive in time; training goes on from the
    /// current model.
    ManifestGap {
        /// The window whose manifest is missing.
        window: u64,
    },
    /// A window finished.
    Window(WindowReport),
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn names_lists_every_outcome_once() {
        let every = [
            Outcome::Committed {
                block: 0,
                digest: [0; 32],
                bytes: 0,
            },
            Outcome::TooLate {
                deadline: 0,
                block: 0,
            },
            Outcome::LateInclusion {
                block: 0,
                deadline: 0,
            },
            Outcome::UploadFailed(String::new()),
            Outcome::CommitFailed(String::new()),
            Outcome::DataFailed(String::new()),
        ];
        // No wildcard: a new outcome does not compile until it is listed above.
        for o in &every {
            match o {
                Outcome::Committed { .. }
                | Outcome::TooLate { .. }
                | Outcome::LateInclusion { .. }
                | Outcome::UploadFailed(_)
                | Outcome::CommitFailed(_)
                | Outcome::DataFailed(_) => {}
            }
        }
        let names: Vec<&str> = every.iter().map(Outcome::name).collect();
        assert_eq!(names, Outcome::NAMES);
    }
}
