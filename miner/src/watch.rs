//! The task that tells a training loop its window has ended.

use kiln_runtime_client::Client;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Sets `ended` once the latest block reaches `next_start`.
pub(crate) async fn watch_window_end(chain: Client, next_start: u64, ended: Arc<AtomicBool>) {
    loop {
        if chain.current_block().await.is_ok_and(|b| b >= next_start) {
            ended.store(true, Ordering::Relaxed);
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Aborts the task when dropped.
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
