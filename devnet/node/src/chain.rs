//! The chain: blocks and their states in memory, block authoring through the runtime's own
//! exported API, and read-only runtime calls at any kept block.

use codec::{Decode, Encode};
use kiln_devnet_runtime::shield::ShieldKeyPair;
use kiln_devnet_runtime::{Header, Runtime, RuntimeGenesisConfig, api, drand};
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash, Header as _};
use sp_runtime::transaction_validity::{
    InvalidTransaction, TransactionSource, TransactionValidity, TransactionValidityError,
};
use sp_runtime::{ApplyExtrinsicResult, BuildStorage, StateVersion};
use sp_state_machine::{Ext, InMemoryBackend, OverlayedChanges, TestExternalities};
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use thiserror::Error;

/// States kept for calls at past blocks (a pruning node's window).
pub const KEPT_STATES: usize = 1024;

/// Why a runtime call could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallError {
    /// No kept state for that block.
    #[error("unknown or pruned block {0:?}")]
    UnknownBlock(H256),
    /// The runtime exports no such function.
    #[error("runtime has no method {0}")]
    UnknownMethod(String),
    /// The runtime panicked (for example on input it could not decode).
    #[error("runtime panicked: {0}")]
    Panicked(String),
    /// The runtime's answer did not decode as expected.
    #[error("undecodable answer from {0}")]
    Decode(String),
}

/// Why the chain could not be built or extended.
#[derive(Debug, Error)]
pub enum ChainError {
    /// The genesis config could not be turned into storage.
    #[error("genesis: {0}")]
    Genesis(String),
    /// A runtime call during authoring failed.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// A block as stored: its header, the SCALE bytes of each extrinsic, and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    /// The header.
    pub header: Header,
    /// Extrinsics exactly as submitted (clients find theirs by hashing these bytes).
    pub extrinsics: Vec<Vec<u8>>,
    /// `blake2_256(header)`.
    pub hash: H256,
}

impl StoredBlock {
    /// The block's SCALE encoding (header, then the extrinsics as a vector), as
    /// `Core_execute_block` takes it.
    pub fn encoded(&self) -> Vec<u8> {
        let mut out = self.header.encode();
        codec::Compact(self.extrinsics.len() as u32).encode_to(&mut out);
        for xt in &self.extrinsics {
            out.extend_from_slice(xt);
        }
        out
    }
}

/// What happened to a pool transaction when a block was authored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxOutcome {
    /// In the block (whether its dispatch succeeded or not).
    Included,
    /// Not yet valid (future nonce) or the block was full: try the next block.
    Retry,
    /// Invalid: drop it.
    Dropped(TransactionValidityError),
}

/// An in-memory chain with instant finality: every authored block is final.
pub struct Chain {
    /// The drand beacon whose pulses the author adds to each block (the chain stores them only
    /// when it is the genesis `BeaconConfig`'s).
    beacon: kiln_drand::Beacon,
    /// The key pair `MevShield` submissions are encrypted to (the genesis `NextKey`'s).
    shield: ShieldKeyPair,
    blocks: Vec<StoredBlock>,
    by_hash: HashMap<H256, u32>,
    states: HashMap<H256, State>,
    state_order: VecDeque<H256>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("best", &self.best().header.number)
            .finish_non_exhaustive()
    }
}

/// Runs `f` with `state` as the externalities, without copying it: reads go to the shared
/// trie, writes to an overlay that is returned (and dropped by read-only callers).
fn with_state<R>(state: &State, f: impl FnOnce() -> R) -> (R, OverlayedChanges<BlakeTwo256>) {
    let mut overlay = OverlayedChanges::default();
    let out = {
        let mut ext = Ext::new(&mut overlay, state, None);
        sp_externalities::set_and_run_with_externalities(&mut ext, f)
    };
    (out, overlay)
}

/// Calls a runtime API function inside externalities, turning a panic into an error.
fn dispatch(method: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| api::dispatch(method, input)))
        .map_err(|e| {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            CallError::Panicked(msg)
        })?
        .ok_or_else(|| CallError::UnknownMethod(method.into()))
}

fn decode<T: Decode>(method: &str, bytes: &[u8]) -> Result<T, CallError> {
    T::decode(&mut &bytes[..]).map_err(|_| CallError::Decode(method.into()))
}

impl Chain {
    /// A chain at block 0 from `genesis`.
    pub fn new(genesis: &RuntimeGenesisConfig) -> Result<Self, ChainError> {
        let mut storage = genesis
            .build_storage()
            .map_err(|e| ChainError::Genesis(e.to_string()))?;
        // Runtime calls see an empty `:code`, as a node's externalities always carry one; it
        // must be in the genesis state for the state roots to agree.
        storage
            .top
            .insert(sp_core::storage::well_known_keys::CODE.to_vec(), Vec::new());
        let state = state_of(storage);
        let state_root = *state.root();
        let extrinsics_root = BlakeTwo256::ordered_trie_root(Vec::new(), StateVersion::V1);
        let header = Header::new(
            0,
            extrinsics_root,
            state_root,
            H256::zero(),
            Default::default(),
        );
        let hash = header.hash();
        let mut chain = Self {
            beacon: kiln_devnet_runtime::dev::beacon(),
            shield: kiln_devnet_runtime::dev::shield_key(),
            blocks: Vec::new(),
            by_hash: HashMap::new(),
            states: HashMap::new(),
            state_order: VecDeque::new(),
        };
        chain.push(
            StoredBlock {
                header,
                extrinsics: Vec::new(),
                hash,
            },
            state,
        );
        Ok(chain)
    }

    /// A chain of `blocks` (genesis first) whose best block has `state`; calls at earlier
    /// blocks find no state, as on a node that pruned them.
    pub(crate) fn from_parts(blocks: Vec<StoredBlock>, state: State) -> Self {
        let best = blocks.last().map(|b| b.hash);
        let mut chain = Self {
            beacon: kiln_devnet_runtime::dev::beacon(),
            shield: kiln_devnet_runtime::dev::shield_key(),
            by_hash: blocks.iter().map(|b| (b.hash, b.header.number)).collect(),
            blocks,
            states: HashMap::new(),
            state_order: VecDeque::new(),
        };
        if let Some(best) = best {
            chain.states.insert(best, state);
            chain.state_order.push_back(best);
        }
        chain
    }

    /// Every block, genesis first.
    pub(crate) fn blocks(&self) -> &[StoredBlock] {
        &self.blocks
    }

    /// Every top-level storage pair after the best block, in key order.
    pub(crate) fn best_storage(&self) -> Result<Vec<KeyValue>, CallError> {
        self.execute_at(self.best().hash, || {
            let mut pairs = Vec::new();
            let mut key = Vec::new();
            if let Some(v) = sp_io::storage::get(&key) {
                pairs.push((key.clone(), v.to_vec()));
            }
            while let Some(next) = sp_io::storage::next_key(&key) {
                if let Some(v) = sp_io::storage::get(&next) {
                    pairs.push((next.clone(), v.to_vec()));
                }
                key = next;
            }
            pairs
        })
    }

    fn push(&mut self, block: StoredBlock, state: State) {
        self.by_hash.insert(block.hash, block.header.number);
        self.states.insert(block.hash, state);
        self.state_order.push_back(block.hash);
        while self.state_order.len() > KEPT_STATES {
            if let Some(old) = self.state_order.pop_front() {
                self.states.remove(&old);
            }
        }
        self.blocks.push(block);
    }

    /// The genesis block's hash.
    pub fn genesis_hash(&self) -> H256 {
        self.blocks[0].hash
    }

    /// The best (and finalized) block.
    pub fn best(&self) -> &StoredBlock {
        self.blocks.last().expect("genesis exists")
    }

    /// A block by hash.
    pub fn block(&self, hash: &H256) -> Option<&StoredBlock> {
        self.by_hash.get(hash).map(|&n| &self.blocks[n as usize])
    }

    /// A block by number.
    pub fn block_by_number(&self, number: u32) -> Option<&StoredBlock> {
        self.blocks.get(number as usize)
    }

    /// Runs runtime API `method` with SCALE `input` against the state after block `at`; state
    /// changes are discarded.
    pub fn call(&self, at: H256, method: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        let state = self.states.get(&at).ok_or(CallError::UnknownBlock(at))?;
        with_state(state, || dispatch(method, input)).0
    }

    /// Runs `f` with the state after block `at` as externalities (changes are discarded), for
    /// reading storage through FRAME's typed accessors.
    pub fn execute_at<R>(&self, at: H256, f: impl FnOnce() -> R) -> Result<R, CallError> {
        let state = self.states.get(&at).ok_or(CallError::UnknownBlock(at))?;
        Ok(with_state(state, f).0)
    }

    /// A storage value at block `at`.
    pub fn storage(&self, at: H256, key: &[u8]) -> Result<Option<Vec<u8>>, CallError> {
        let state = self.states.get(&at).ok_or(CallError::UnknownBlock(at))?;
        Ok(with_state(state, || sp_io::storage::get(key).map(|b| b.to_vec())).0)
    }

    /// Up to `count` storage keys under `prefix` at block `at`, in key order, after `start`
    /// (exclusive) when given.
    pub fn keys_paged(
        &self,
        at: H256,
        prefix: &[u8],
        count: u32,
        start: Option<&[u8]>,
    ) -> Result<Vec<Vec<u8>>, CallError> {
        self.execute_at(at, || {
            let mut keys = Vec::new();
            let mut cursor = match start {
                Some(s) if s > prefix => s.to_vec(),
                _ => {
                    if sp_io::storage::get(prefix).is_some() {
                        keys.push(prefix.to_vec());
                    }
                    prefix.to_vec()
                }
            };
            while keys.len() < count as usize {
                match sp_io::storage::next_key(&cursor) {
                    Some(k) if k.starts_with(prefix) => {
                        keys.push(k.clone());
                        cursor = k;
                    }
                    _ => break,
                }
            }
            keys
        })
    }

    /// Validates extrinsic bytes against the best block, as a transaction pool does.
    pub fn validate(&self, xt: &[u8]) -> Result<TransactionValidity, CallError> {
        let best = self.best().hash;
        let mut input = TransactionSource::External.encode();
        input.extend_from_slice(xt);
        best.encode_to(&mut input);
        let out = self.call(best, "TaggedTransactionQueue_validate_transaction", &input)?;
        decode("TaggedTransactionQueue_validate_transaction", &out)
    }

    /// Signs pulses with `beacon` instead of the dev beacon (`kiln devnet --beacon-seed`).
    pub fn set_beacon(&mut self, beacon: kiln_drand::Beacon) {
        self.beacon = beacon;
    }

    /// Decrypts `MevShield` submissions with `shield` instead of the dev shield key (its
    /// encapsulation key must be the genesis `NextKey`).
    pub fn set_shield_key(&mut self, shield: ShieldKeyPair) {
        self.shield = shield;
    }

    /// Authors the next block: the timestamp and beacon-pulse inherents, then each of `txs` in
    /// order (applied in its own storage transaction, so a rejected one leaves no trace; a
    /// `MevShield` carrier is followed by the extrinsic it decrypts to), then finalization.
    /// Returns the block and what happened to each transaction.
    pub fn author(
        &mut self,
        txs: &[Vec<u8>],
        timestamp_ms: u64,
    ) -> Result<(StoredBlock, Vec<TxOutcome>), ChainError> {
        let parent = self.best().clone();
        let state = self
            .states
            .get(&parent.hash)
            .ok_or(CallError::UnknownBlock(parent.hash))?;
        let header = Header::new(
            parent.header.number + 1,
            Default::default(),
            Default::default(),
            parent.hash,
            Default::default(),
        );
        let (result, mut overlay) = with_state(state, || {
            build_block(&header, txs, timestamp_ms, &self.beacon, &self.shield)
        });
        let (header, extrinsics, outcomes) = result?;
        // The block's state: the parent's trie plus this block's changes (the parent's stays
        // as it was, for calls at that block).
        let changes = overlay
            .drain_storage_changes(state, StateVersion::V1)
            .map_err(|e| CallError::Panicked(format!("storage changes: {e}")))?;
        let mut post = state.clone();
        post.apply_transaction(changes.transaction_storage_root, changes.transaction);
        // Consolidation leaves the trie nodes this block replaced at refcount zero; without a
        // purge each kept state would carry every node of its history.
        post.backend_storage_mut().purge();
        let block = StoredBlock {
            hash: header.hash(),
            header,
            extrinsics,
        };
        self.push(block.clone(), post);
        Ok((block, outcomes))
    }
}

/// The trie of `storage` (state version 1, as the runtime's).
pub(crate) fn state_of(storage: sp_core::storage::Storage) -> State {
    TestExternalities::<BlakeTwo256>::new_with_state_version(storage, StateVersion::V1).as_backend()
}

/// A storage key and its value.
pub(crate) type KeyValue = (Vec<u8>, Vec<u8>);

/// The in-memory trie a block's state lives in.
pub(crate) type State = InMemoryBackend<BlakeTwo256>;

type Built = (Header, Vec<Vec<u8>>, Vec<TxOutcome>);

/// Applies `tx` in its own storage transaction, kept only when the block includes it; what
/// happened, and whether its call dispatched successfully.
fn apply(tx: &[u8]) -> (TxOutcome, bool) {
    sp_io::storage::start_transaction();
    let applied = dispatch("BlockBuilder_apply_extrinsic", tx)
        .and_then(|out| decode::<ApplyExtrinsicResult>("BlockBuilder_apply_extrinsic", &out));
    let outcome = match &applied {
        Ok(Ok(_)) => TxOutcome::Included,
        Ok(Err(TransactionValidityError::Invalid(
            InvalidTransaction::Future | InvalidTransaction::ExhaustsResources,
        ))) => TxOutcome::Retry,
        Ok(Err(e)) => TxOutcome::Dropped(*e),
        Err(_) => TxOutcome::Dropped(TransactionValidityError::Invalid(
            InvalidTransaction::Custom(255),
        )),
    };
    if outcome == TxOutcome::Included {
        sp_io::storage::commit_transaction();
    } else {
        sp_io::storage::rollback_transaction();
    }
    (outcome, matches!(applied, Ok(Ok(Ok(())))))
}

/// The extrinsic a successfully dispatched `MevShield` carrier decrypts to, applied right after
/// it; `None` (logged) when `carrier` is no carrier, or its inner extrinsic cannot be decrypted
/// or is refused.
fn apply_unshielded(shield: &ShieldKeyPair, carrier: &[u8]) -> Option<Vec<u8>> {
    let inner = match crate::shield::unshield(shield, carrier)? {
        Ok(inner) => inner,
        Err(e) => {
            tracing::debug!(target: "kiln::devnet", error = %e, "skipped a shielded extrinsic");
            return None;
        }
    };
    match apply(&inner).0 {
        TxOutcome::Included => Some(inner),
        outcome => {
            tracing::debug!(target: "kiln::devnet", ?outcome, "refused a shielded extrinsic");
            None
        }
    }
}

fn build_block(
    header: &Header,
    txs: &[Vec<u8>],
    timestamp_ms: u64,
    beacon: &kiln_drand::Beacon,
    shield: &ShieldKeyPair,
) -> Result<Built, CallError> {
    dispatch("Core_initialize_block", &header.encode())?;
    let mut data = sp_inherents::InherentData::new();
    data.put_data(*b"timstap0", &timestamp_ms)
        .map_err(|e| CallError::Decode(e.to_string()))?;
    let pulses = drand::pulses_due::<Runtime>(beacon, timestamp_ms);
    data.put_data(drand::INHERENT_IDENTIFIER, &pulses)
        .map_err(|e| CallError::Decode(e.to_string()))?;
    let out = dispatch("BlockBuilder_inherent_extrinsics", &data.encode())?;
    let inherents: Vec<kiln_devnet_runtime::UncheckedExtrinsic> =
        decode("BlockBuilder_inherent_extrinsics", &out)?;
    let mut body = Vec::new();
    for xt in inherents {
        let bytes = xt.encode();
        let r: ApplyExtrinsicResult = decode(
            "BlockBuilder_apply_extrinsic",
            &dispatch("BlockBuilder_apply_extrinsic", &bytes)?,
        )?;
        if let Err(e) = r {
            return Err(CallError::Panicked(format!("inherent rejected: {e:?}")));
        }
        body.push(bytes);
    }
    let mut outcomes = Vec::with_capacity(txs.len());
    for tx in txs {
        let (outcome, dispatched) = apply(tx);
        if outcome == TxOutcome::Included {
            body.push(tx.clone());
        }
        if dispatched {
            body.extend(apply_unshielded(shield, tx));
        }
        outcomes.push(outcome);
    }
    let header: Header = decode(
        "BlockBuilder_finalize_block",
        &dispatch("BlockBuilder_finalize_block", &[])?,
    )?;
    Ok((header, body, outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trie node entries held by the best block's state, dead ones (refcount zero) included.
    fn nodes(chain: &Chain) -> usize {
        let mut db = chain.states[&chain.best().hash].backend_storage().clone();
        db.drain().len()
    }

    #[test]
    fn a_kept_state_holds_only_its_own_trie_nodes() {
        let genesis =
            kiln_devnet_runtime::dev::genesis(vec![kiln_devnet_runtime::dev::fast_subnet(1, 10)]);
        let mut chain = Chain::new(&genesis).unwrap();
        // Before the beacon's genesis: no pulses, so the state grows only by `System.BlockHash`.
        let author = |chain: &mut Chain, n: u64| {
            chain.author(&[], n * 250).unwrap();
        };
        for n in 1..=50 {
            author(&mut chain, n);
        }
        let at_50 = nodes(&chain);
        for n in 51..=250 {
            author(&mut chain, n);
        }
        let grown = nodes(&chain) - at_50;
        // Each block adds one `BlockHash` entry (a leaf and, now and then, a branch); without
        // the purge every block's replaced nodes (header fields, events, epochs) stayed too.
        assert!(
            grown <= 2 * 200,
            "{grown} nodes more after 200 blocks (from {at_50})"
        );
    }
}
