//! Deterministic data assignment: which dataset rows a miner trains on in a window, and the
//! window's shared random evaluation pool.
//!
//! A pool is an ordered sample **without replacement** of `pool_size` row indices from
//! `0..dataset_rows`, drawn by a sparse Fisher–Yates shuffle (step `i` swaps position `i`
//! with `i + below(n − i)`) over a [blake3 XOF stream](crate::rng). The stream's key is
//! domain-separated per purpose:
//!
//! - assigned pool: `blake3::derive_key("kiln data-assignment v1 assigned", netuid u16 ‖
//!   uid u16 ‖ hotkey [32] ‖ window u64)` (little-endian);
//! - random pool: `blake3::derive_key("kiln data-assignment v1 random", netuid u16 ‖
//!   window u64 ‖ seed [32])`, where the seed is something miners cannot know before the
//!   commit deadline (the hash of [`crate::WindowClock::random_seed_block`]).
//!
//! A shorter pool is always a prefix of a longer one from the same key and dataset.

use crate::rng::StreamRng;
use std::collections::HashMap;
use thiserror::Error;

/// Largest pool the protocol draws (2^24 rows).
pub const MAX_POOL_ROWS: usize = 1 << 24;

const ASSIGNED_CONTEXT: &str = "kiln data-assignment v1 assigned";
const RANDOM_CONTEXT: &str = "kiln data-assignment v1 random";

/// Why a pool cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssignmentError {
    /// The pool is larger than the dataset.
    #[error("pool of {pool_size} rows requested from a dataset of {dataset_rows} rows")]
    PoolLargerThanDataset {
        /// Requested pool.
        pool_size: usize,
        /// Dataset rows.
        dataset_rows: u64,
    },
    /// The pool exceeds [`MAX_POOL_ROWS`].
    #[error("pool of {0} rows exceeds the limit of 2^24")]
    PoolTooLarge(usize),
}

/// The rows miner `uid` (with `hotkey`) trains on in `window`, in training order.
pub fn assigned_pool(
    netuid: u16,
    uid: u16,
    hotkey: &[u8; 32],
    window: u64,
    dataset_rows: u64,
    pool_size: usize,
) -> Result<Vec<u64>, AssignmentError> {
    let mut material = Vec::with_capacity(44);
    material.extend_from_slice(&netuid.to_le_bytes());
    material.extend_from_slice(&uid.to_le_bytes());
    material.extend_from_slice(hotkey);
    material.extend_from_slice(&window.to_le_bytes());
    let key = blake3::derive_key(ASSIGNED_CONTEXT, &material);
    sample(&key, dataset_rows, pool_size)
}

/// The window's shared random pool from a validator-supplied `seed`.
pub fn random_pool(
    netuid: u16,
    window: u64,
    seed: &[u8; 32],
    dataset_rows: u64,
    pool_size: usize,
) -> Result<Vec<u64>, AssignmentError> {
    let mut material = Vec::with_capacity(42);
    material.extend_from_slice(&netuid.to_le_bytes());
    material.extend_from_slice(&window.to_le_bytes());
    material.extend_from_slice(seed);
    let key = blake3::derive_key(RANDOM_CONTEXT, &material);
    sample(&key, dataset_rows, pool_size)
}

fn sample(key: &[u8; 32], n: u64, m: usize) -> Result<Vec<u64>, AssignmentError> {
    if m > MAX_POOL_ROWS {
        return Err(AssignmentError::PoolTooLarge(m));
    }
    if m as u64 > n {
        return Err(AssignmentError::PoolLargerThanDataset {
            pool_size: m,
            dataset_rows: n,
        });
    }
    let mut rng = StreamRng::new(key);
    // Positions of the virtual array 0..n that have been swapped away from identity.
    let mut moved: HashMap<u64, u64> = HashMap::with_capacity(2 * m);
    let mut out = Vec::with_capacity(m);
    for i in 0..m as u64 {
        let j = i + rng.below(n - i);
        let at_j = moved.get(&j).copied().unwrap_or(j);
        let at_i = moved.get(&i).copied().unwrap_or(i);
        moved.insert(j, at_i);
        out.push(at_j);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn deterministic_and_separated() {
        let hk = [3u8; 32];
        let a = assigned_pool(1, 5, &hk, 10, 1_000_000, 64).unwrap();
        assert_eq!(a, assigned_pool(1, 5, &hk, 10, 1_000_000, 64).unwrap());
        assert_ne!(a, assigned_pool(1, 6, &hk, 10, 1_000_000, 64).unwrap());
        assert_ne!(a, assigned_pool(1, 5, &hk, 11, 1_000_000, 64).unwrap());
        assert_ne!(a, assigned_pool(2, 5, &hk, 10, 1_000_000, 64).unwrap());
        assert_ne!(
            a,
            assigned_pool(1, 5, &[4u8; 32], 10, 1_000_000, 64).unwrap()
        );
        assert_ne!(a, random_pool(1, 10, &[3u8; 32], 1_000_000, 64).unwrap());
    }

    #[test]
    fn golden_vector() {
        // Pinned output: a change here changes every miner's data on the network.
        let pool = assigned_pool(3, 7, &[0xAB; 32], 42, 1000, 8).unwrap();
        assert_eq!(pool, GOLDEN);
    }
    const GOLDEN: [u64; 8] = [476, 992, 51, 983, 946, 157, 452, 552];

    #[test]
    fn errors() {
        assert_eq!(
            assigned_pool(0, 0, &[0; 32], 0, 10, 11),
            Err(AssignmentError::PoolLargerThanDataset {
                pool_size: 11,
                dataset_rows: 10
            })
        );
        assert_eq!(
            random_pool(0, 0, &[0; 32], u64::MAX, MAX_POOL_ROWS + 1),
            Err(AssignmentError::PoolTooLarge(MAX_POOL_ROWS + 1))
        );
    }

    #[test]
    fn whole_dataset_is_a_permutation() {
        let mut p = random_pool(1, 2, &[5; 32], 500, 500).unwrap();
        p.sort_unstable();
        assert_eq!(p, (0..500).collect::<Vec<_>>());
    }

    #[test]
    fn rows_are_roughly_uniform() {
        // 2000 pools of 10 from 20 rows: each row expected 1000 times.
        let mut counts = [0u32; 20];
        for w in 0..2000 {
            for r in assigned_pool(1, 1, &[0; 32], w, 20, 10).unwrap() {
                counts[r as usize] += 1;
            }
        }
        for c in counts {
            assert!((880..1120).contains(&c), "{counts:?}");
        }
    }

    proptest! {
        #[test]
        fn distinct_in_range_and_prefix_stable(n in 1u64..5000, m in 0usize..300, w in any::<u64>()) {
            let m = m.min(n as usize);
            let p = assigned_pool(9, 1, &[1; 32], w, n, m).unwrap();
            prop_assert_eq!(p.len(), m);
            prop_assert!(p.iter().all(|&r| r < n));
            prop_assert_eq!(p.iter().collect::<HashSet<_>>().len(), m);
            let shorter = assigned_pool(9, 1, &[1; 32], w, n, m / 2).unwrap();
            prop_assert_eq!(&p[..m / 2], &shorter[..]);
        }
    }
}
