//! The metagraph snapshot: the subnet's neurons at the block the validator last read them.

use super::{Db, DbError, i64_of};

/// One neuron as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronRow {
    /// The uid.
    pub uid: u16,
    /// Hotkey, SS58.
    pub hotkey: String,
    /// Owner coldkey, SS58.
    pub coldkey: String,
    /// Stake on the subnet, rao.
    pub stake: u64,
    /// Holds a validator permit.
    pub validator_permit: bool,
    /// Active in the last epoch.
    pub active: bool,
    /// Block of its last weights.
    pub last_update: u64,
    /// Incentive in `[0, 1]`.
    pub incentive: f64,
    /// Dividends in `[0, 1]`.
    pub dividends: f64,
    /// Consensus in `[0, 1]`.
    pub consensus: f64,
    /// Emission of the last epoch, rao.
    pub emission: u64,
}

impl Db {
    /// Replaces the snapshot with `neurons` as read at `block`, in one transaction.
    pub async fn save_neurons(&self, block: u64, neurons: &[NeuronRow]) -> Result<(), DbError> {
        let i64s = |f: fn(&NeuronRow) -> u64, what| {
            neurons
                .iter()
                .map(|n| i64_of(f(n), what))
                .collect::<Result<Vec<_>, _>>()
        };
        let f64s = |f: fn(&NeuronRow) -> f64| neurons.iter().map(f).collect::<Vec<_>>();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM neurons").execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO neurons (block, uid, hotkey, coldkey, stake, validator_permit, active,
                                  last_update, incentive, dividends, consensus, emission)
             SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::bigint[],
                 $6::bool[], $7::bool[], $8::bigint[], $9::float8[], $10::float8[],
                 $11::float8[], $12::bigint[])",
        )
        .bind(i64_of(block, "block")?)
        .bind(neurons.iter().map(|n| i32::from(n.uid)).collect::<Vec<_>>())
        .bind(
            neurons
                .iter()
                .map(|n| n.hotkey.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            neurons
                .iter()
                .map(|n| n.coldkey.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(i64s(|n| n.stake, "stake")?)
        .bind(
            neurons
                .iter()
                .map(|n| n.validator_permit)
                .collect::<Vec<_>>(),
        )
        .bind(neurons.iter().map(|n| n.active).collect::<Vec<_>>())
        .bind(i64s(|n| n.last_update, "last_update")?)
        .bind(f64s(|n| n.incentive))
        .bind(f64s(|n| n.dividends))
        .bind(f64s(|n| n.consensus))
        .bind(i64s(|n| n.emission, "emission")?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
