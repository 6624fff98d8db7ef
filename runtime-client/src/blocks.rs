//! The block and window stream: finalized heads turned into [`WindowEvent`]s by the protocol's
//! window clock. The tracker is pure; the stream survives reconnects (subxt resubscribes) and
//! skips heads at or below the last one it reported.

use crate::client::Client;
use crate::error::ReadError;
use crate::read::{BlockSel, get};
use crate::schema;
use futures::{Stream, StreamExt};
use kiln_protocol::window::WindowClock;
use subxt::utils::H256;

/// What happened at a finalized block, in block order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowEvent {
    /// Window `window` begins at `block` (also reported for each window skipped over by a gap).
    WindowStarted {
        /// The window.
        window: u64,
        /// Its first block.
        block: u64,
    },
    /// Commitments for `window` are closed: `block` is the first block after its commit
    /// deadline, and its hash seeds the window's random evaluation pool.
    CommitsClosed {
        /// The window.
        window: u64,
        /// The seed block (the first block after the deadline).
        block: u64,
    },
    /// A finalized block.
    Block {
        /// Its number.
        number: u64,
        /// Its hash.
        hash: H256,
        /// The window it lies in.
        window: u64,
    },
}

/// Turns a sequence of finalized block numbers into window events. Pure.
#[derive(Debug, Clone)]
pub struct WindowTracker {
    clock: WindowClock,
    last: Option<u64>,
}

impl WindowTracker {
    /// A tracker that has seen no block yet.
    pub fn new(clock: WindowClock) -> Self {
        WindowTracker { clock, last: None }
    }

    /// The last block reported.
    pub fn last_block(&self) -> Option<u64> {
        self.last
    }

    /// Events for finalized block `number` (empty if it is not above the last one). The first
    /// block seen starts its window; later gaps report every boundary crossed.
    pub fn observe(&mut self, number: u64, hash: H256) -> Vec<WindowEvent> {
        let mut out = Vec::new();
        let from = match self.last {
            Some(last) if number <= last => return out,
            Some(last) => last + 1,
            None => number,
        };
        let first_window = self.clock.window_of(from);
        let last_window = self.clock.window_of(number);
        for window in first_window..=last_window {
            let start = self.clock.start_block(window);
            if (self.last.is_none() && window == first_window) || start >= from {
                out.push(WindowEvent::WindowStarted {
                    window,
                    block: start.max(from),
                });
            }
        }
        // Windows whose seed block (deadline + 1) lies in from..=number.
        let earliest = self
            .clock
            .window_of(from.saturating_sub(self.clock.commit_grace_blocks() + 1));
        for window in earliest.saturating_sub(1)..=last_window {
            let seed = self.clock.random_seed_block(window);
            if (from..=number).contains(&seed) {
                out.push(WindowEvent::CommitsClosed {
                    window,
                    block: seed,
                });
            }
        }
        out.push(WindowEvent::Block {
            number,
            hash,
            window: last_window,
        });
        self.last = Some(number);
        out
    }
}

/// Why the block stream failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The subscription could not be made or failed past the reconnection retries.
    #[error("finalized block stream: {0}")]
    Subscription(String),
}

impl Client {
    /// The latest finalized block number.
    pub async fn current_block(&self) -> Result<u64, ReadError> {
        Ok(self.at(BlockSel::Latest).await?.block_number())
    }

    /// The timestamp (unix ms) of block `number`.
    pub async fn block_timestamp(&self, number: u64) -> Result<u64, ReadError> {
        let at = self.at(BlockSel::Number(number)).await?;
        self.timed(get(&at, schema::timestamp_now(), ())).await?
    }

    /// Window events for every finalized block from now on.
    pub async fn window_events(
        &self,
        clock: WindowClock,
    ) -> Result<impl Stream<Item = Result<WindowEvent, StreamError>> + use<>, StreamError> {
        let blocks = self
            .api()
            .stream_blocks()
            .await
            .map_err(|e| StreamError::Subscription(e.to_string()))?;
        let mut tracker = WindowTracker::new(clock);
        Ok(blocks
            .map(move |block| match block {
                Ok(block) => {
                    let events = tracker.observe(block.number(), block.hash());
                    futures::stream::iter(events.into_iter().map(Ok).collect::<Vec<_>>())
                }
                // A dropped connection: the backend reconnects and resubscribes by itself.
                Err(subxt::error::BlocksError::CannotGetBlockHeader(e))
                    if e.is_disconnected_will_reconnect() =>
                {
                    tracing::warn!(error = %e, "block stream interrupted; reconnecting");
                    futures::stream::iter(Vec::new())
                }
                Err(e) => {
                    futures::stream::iter(vec![Err(StreamError::Subscription(e.to_string()))])
                }
            })
            .flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(events: &[WindowEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                WindowEvent::WindowStarted { window, block } => format!("start {window}@{block}"),
                WindowEvent::CommitsClosed { window, block } => format!("closed {window}@{block}"),
                WindowEvent::Block { number, window, .. } => format!("block {number}/{window}"),
            })
            .collect()
    }

    #[test]
    fn windows_start_and_close_in_block_order() {
        // 10 blocks per window, 2 blocks of grace: window w's seed block is 10w + 12.
        let mut t = WindowTracker::new(WindowClock::new(10, 2).unwrap());
        let h = H256::zero();
        assert_eq!(names(&t.observe(8, h)), ["start 0@8", "block 8/0"]);
        assert_eq!(names(&t.observe(9, h)), ["block 9/0"]);
        assert_eq!(names(&t.observe(10, h)), ["start 1@10", "block 10/1"]);
        assert_eq!(names(&t.observe(11, h)), ["block 11/1"]);
        assert_eq!(names(&t.observe(12, h)), ["closed 0@12", "block 12/1"]);
        // Repeats and older heads (a restarted chain) are skipped.
        assert!(t.observe(12, h).is_empty());
        assert!(t.observe(3, h).is_empty());
        // A gap reports every boundary and seed block it crossed.
        assert_eq!(
            names(&t.observe(33, h)),
            [
                "start 2@20",
                "start 3@30",
                "closed 1@22",
                "closed 2@32",
                "block 33/3"
            ]
        );
    }
}
