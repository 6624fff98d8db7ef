//! The Aggregate phase: the outer step on the validator's replica, the manifest (and every
//! `checkpoint_every` windows a checkpoint) recorded, then published through the gateway and
//! committed on chain.
//!
//! Order, so that a crash anywhere leaves a state the next start repairs: the result model is
//! staged on disk, the manifest row and the new model hash are written in one transaction, the
//! staged model becomes current, then the bytes are uploaded and the manifest committed. A
//! recorded manifest without a commit block is published again at start-up.

use super::{Validator, ValidatorError, model_err};
use crate::machine::WindowMachine;
use bytes::Bytes;
use kiln_protocol::aggregation::{AggregationManifest, Peer};
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::{Digest, SparseTensor};
use kiln_training::outer_step_from_messages;

impl Validator {
    /// Steps the model with `uids`' updates, records the manifest and publishes it.
    pub(super) async fn aggregate(
        &mut self,
        m: &WindowMachine,
        window: u64,
        uids: &[u16],
    ) -> Result<Option<(Digest, Vec<u16>)>, ValidatorError> {
        let artifacts: Vec<(u16, Digest, Vec<SparseTensor>)> = uids
            .iter()
            .filter_map(|u| {
                let a = m.update_for(*u)?;
                let bytes = a.encode().ok()?;
                Some((*u, *blake3::hash(&bytes).as_bytes(), a.tensors.clone()))
            })
            .collect();
        if artifacts.is_empty() {
            return Ok(None);
        }
        let base = self.model_hash;
        let model = self.model.clone();
        let outer = self.cfg.hparams.outer.clone();
        let messages: Vec<Vec<SparseTensor>> =
            artifacts.iter().map(|(_, _, t)| t.clone()).collect();
        let result = tokio::task::spawn_blocking(move || {
            let peers: Vec<&[SparseTensor]> = messages.iter().map(Vec::as_slice).collect();
            outer_step_from_messages(&model, &peers, &outer)?;
            model.state_hash().map_err(kiln_training::EvalError::from)
        })
        .await
        .map_err(model_err)?
        .map_err(model_err)?;
        self.files.stage(&self.model).map_err(model_err)?;
        let every = self.cfg.checkpoint_every;
        let checkpoint = if every > 0 && window.is_multiple_of(every) {
            Some(self.files.staged_weights().map_err(model_err)?)
        } else {
            None
        };
        let manifest = AggregationManifest {
            netuid: self.cfg.netuid,
            window,
            hparams_hash: self.cfg.hparams.hparams_hash(),
            base_model_hash: base,
            result_model_hash: result,
            prev_manifest: self.last_manifest.unwrap_or([0; 32]),
            checkpoint: checkpoint
                .as_ref()
                .map_or([0; 32], |b| *blake3::hash(b).as_bytes()),
            peers: artifacts
                .iter()
                .map(|(uid, digest, _)| Peer {
                    uid: *uid,
                    digest: *digest,
                })
                .collect(),
        };
        let bytes = manifest.encode().map_err(model_err)?;
        let digest = *blake3::hash(&bytes).as_bytes();
        self.db
            .save_manifest(
                &manifest,
                &digest,
                &bytes,
                checkpoint.as_ref().map(|b| b.len() as u64),
            )
            .await?;
        self.files.promote().map_err(model_err)?;
        self.model_hash = result;
        self.last_manifest = Some(digest);
        if let Some(b) = &checkpoint {
            self.metrics.checkpoint(b.len());
        }
        let peers = manifest.peers.len();
        self.publish(window, peers, digest, bytes, checkpoint)
            .await?;
        Ok(Some((digest, uids.to_vec())))
    }

    /// Publishes the newest manifest again if a crash or a failure left it uncommitted.
    /// Whether one is still unpublished afterwards.
    pub(super) async fn republish(&self) -> Result<bool, ValidatorError> {
        let Some((window, digest, bytes)) = self.db.unpublished_manifest().await? else {
            return Ok(false);
        };
        let manifest = AggregationManifest::decode(&bytes).map_err(model_err)?;
        // Its checkpoint, if any, is the current model's weights (the manifest is the newest).
        let checkpoint = match manifest.checkpoint() {
            Some(want) => {
                let weights = self.files.current_weights().map_err(model_err)?;
                (*blake3::hash(&weights).as_bytes() == want).then_some(weights)
            }
            None => None,
        };
        tracing::info!(window, "publishing a recorded manifest again");
        let published = self
            .publish(window, manifest.peers.len(), digest, bytes, checkpoint)
            .await?;
        Ok(!published)
    }

    /// Uploads the checkpoint and the manifest, commits the manifest and records the block.
    /// Failures are logged and counted; the manifest stays recorded as unpublished. Whether it
    /// was published.
    async fn publish(
        &self,
        window: u64,
        peers: usize,
        digest: Digest,
        bytes: Vec<u8>,
        checkpoint: Option<Vec<u8>>,
    ) -> Result<bool, ValidatorError> {
        let byte_len = bytes.len() as u64;
        let block = self.upload_and_commit(window, digest, bytes, checkpoint, byte_len);
        match block.await {
            Some(block) => {
                self.db.manifest_published(window, block).await?;
                self.metrics.manifest(peers, true);
                Ok(true)
            }
            None => {
                self.metrics.manifest(peers, false);
                Ok(false)
            }
        }
    }

    async fn upload_and_commit(
        &self,
        window: u64,
        digest: Digest,
        bytes: Vec<u8>,
        checkpoint: Option<Vec<u8>>,
        byte_len: u64,
    ) -> Option<u64> {
        for (what, b) in [("checkpoint", checkpoint), ("manifest", Some(bytes))] {
            let Some(b) = b else { continue };
            if let Err(e) = self
                .sources
                .default_gateway()
                .upload(&self.hotkey, Bytes::from(b))
                .await
            {
                tracing::warn!(window, error = %e, "{what} upload failed");
                return None;
            }
        }
        let commitment = Commitment {
            kind: CommitmentKind::Manifest,
            window,
            digest,
            byte_len,
            locator: self.cfg.locator.clone(),
        };
        let encoded = commitment.encode().ok()?;
        match self
            .chain
            .set_commitment(self.cfg.netuid, &self.hotkey, &encoded)
            .await
        {
            Ok(included) => Some(included.block_number),
            Err(e) => {
                tracing::warn!(window, error = %e, "manifest commitment failed");
                None
            }
        }
    }
}
