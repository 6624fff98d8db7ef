//! Whether a window's commitment can still land in time. Pure.

use kiln_protocol::window::WindowClock;

/// What to do with a finished window's artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitDecision {
    /// Upload and commit: the commitment can be included by the deadline.
    Commit,
    /// Too late: committing now would land after the deadline (a stale window). The update is
    /// kept in the error feedback instead.
    TooLate {
        /// The window's commit deadline.
        deadline: u64,
        /// The latest block.
        block: u64,
    },
}

/// Decides at `block` (the latest block) whether window `window`'s commitment, included no
/// earlier than `block + 1 + margin`, still meets the window's commit deadline.
pub fn decide(clock: &WindowClock, window: u64, block: u64, margin: u64) -> CommitDecision {
    let deadline = clock.commit_deadline(window);
    if block.saturating_add(1).saturating_add(margin) <= deadline {
        CommitDecision::Commit
    } else {
        CommitDecision::TooLate { deadline, block }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_only_while_the_deadline_can_be_met() {
        // 10 blocks per window, 2 of grace: window 3's deadline is block 41.
        let clock = WindowClock::new(10, 2).unwrap();
        assert_eq!(decide(&clock, 3, 35, 2), CommitDecision::Commit);
        assert_eq!(decide(&clock, 3, 38, 2), CommitDecision::Commit);
        assert_eq!(
            decide(&clock, 3, 39, 2),
            CommitDecision::TooLate {
                deadline: 41,
                block: 39
            }
        );
        assert_eq!(decide(&clock, 3, 40, 0), CommitDecision::Commit);
        assert!(matches!(
            decide(&clock, 3, 41, 0),
            CommitDecision::TooLate { .. }
        ));
    }
}
