//! Keeping the model in step with the subnet: find the lead validator's latest aggregation
//! manifest on chain, walk the manifest chain back to the local model's state hash, and apply
//! each missing outer step in order, checking every result against the manifest.

use kiln_protocol::aggregation::{AggregationError, AggregationManifest};
use kiln_protocol::artifact::{Artifact, DecodeError, DecodeOptions, Expect};
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::hparams::OuterParams;
use kiln_protocol::{Digest, Hparams};
use kiln_runtime_client::commitments::HotkeyCommitment;
use kiln_runtime_client::{AccountId32, Metagraph};
use kiln_storage_gateway::{GatewayClient, GatewayClientError};
use kiln_training::{EvalError, Model, ModelError, outer_step_from_messages};
use thiserror::Error;

/// Most manifests a node replays in one catch-up; further behind needs a checkpoint.
pub const MAX_CATCH_UP: usize = 256;

/// A manifest commitment found on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRef {
    /// The validator that committed it.
    pub validator: AccountId32,
    /// The commitment (window, digest, length, locator).
    pub commitment: Commitment,
    /// The block that included it.
    pub block: u64,
}

/// Picks the manifest to follow from the subnet's commitments: the one committed by `validator`
/// when given, otherwise the one of the manifest-committing hotkey with the most stake (ties: the
/// lower uid). Hotkeys not in `metagraph` are ignored.
pub fn lead_manifest(
    commitments: &[HotkeyCommitment],
    metagraph: &Metagraph,
    validator: Option<&AccountId32>,
) -> Option<ManifestRef> {
    commitments
        .iter()
        .filter(|c| validator.is_none_or(|v| &c.hotkey == v))
        .filter_map(|c| {
            let commitment = c.kiln()?.ok()?;
            let neuron = metagraph.by_hotkey(&c.hotkey)?;
            (commitment.kind == CommitmentKind::Manifest).then(|| {
                (
                    (neuron.stake, std::cmp::Reverse(neuron.uid)),
                    ManifestRef {
                        validator: c.hotkey,
                        commitment,
                        block: u64::from(c.registration.block),
                    },
                )
            })
        })
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, m)| m)
}

/// Why the model could not be brought up to date.
#[derive(Debug, Error)]
pub enum SyncError {
    /// The window's wait for manifests ended before a download finished.
    #[error("the manifest wait ended at block {block} before the downloads finished")]
    WaitOver {
        /// The block the wait ended at.
        block: u64,
    },
    /// A manifest or artifact could not be downloaded.
    #[error("downloading {what}: {source}")]
    Fetch {
        /// What was being fetched.
        what: String,
        /// The gateway error.
        source: GatewayClientError,
    },
    /// A downloaded manifest is malformed.
    #[error("manifest {digest}: {source}")]
    Manifest {
        /// Its digest (hex).
        digest: String,
        /// The decoder's error.
        source: AggregationError,
    },
    /// A manifest belongs to another subnet or run.
    #[error("manifest for window {window} belongs to another {field}")]
    OtherRun {
        /// The manifest's window.
        window: u64,
        /// `netuid` or `hparams hash`.
        field: &'static str,
    },
    /// The local model is not on the manifest chain within [`MAX_CATCH_UP`] manifests.
    #[error(
        "the local model {model} is not on the validator's manifest chain (walked back {walked} manifests); start from the validator's checkpoint"
    )]
    NotOnChain {
        /// The local state hash (hex).
        model: String,
        /// Manifests walked.
        walked: usize,
    },
    /// An included artifact is malformed or does not belong to the manifest.
    #[error("window {window} artifact of uid {uid}: {reason}")]
    Artifact {
        /// The manifest's window.
        window: u64,
        /// The peer.
        uid: u16,
        /// What is wrong.
        reason: String,
    },
    /// The outer step failed (the model is unchanged).
    #[error("applying window {window}: {source}")]
    Apply {
        /// The manifest's window.
        window: u64,
        /// The math error.
        source: EvalError,
    },
    /// The outer step gave another model than the manifest names (the model is restored).
    #[error("window {window}: the aggregate gives model {got}, the manifest names {expected}")]
    Diverged {
        /// The manifest's window.
        window: u64,
        /// The manifest's result hash (hex).
        expected: String,
        /// The local result (hex).
        got: String,
    },
    /// Reading the chain failed.
    #[error(transparent)]
    Chain(#[from] kiln_runtime_client::error::ReadError),
    /// The model could not be read or restored.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The blocking task applying a step failed.
    #[error("outer step task failed: {0}")]
    Task(String),
}

/// Fetches manifests and artifacts through a gateway and replays outer steps.
#[derive(Debug, Clone)]
pub struct ModelSync {
    gateway: GatewayClient,
    netuid: u16,
    hparams_hash: Digest,
    expect: Expect,
    outer: OuterParams,
    max_artifact_bytes: usize,
}

impl ModelSync {
    /// A syncer for `netuid` running `hparams`, downloading through `gateway`.
    pub fn new(gateway: GatewayClient, netuid: u16, hparams: &Hparams) -> Self {
        ModelSync {
            gateway,
            netuid,
            hparams_hash: hparams.hparams_hash(),
            expect: Expect {
                chunk: hparams.compression.chunk,
                topk: hparams.compression.topk,
            },
            outer: hparams.outer.clone(),
            max_artifact_bytes: DecodeOptions::default().max_len,
        }
    }

    /// Downloads and decodes the manifest with `digest`, checking it belongs to this run.
    pub async fn manifest(&self, digest: &Digest) -> Result<AggregationManifest, SyncError> {
        let hex = hex::encode(digest);
        let bytes = self
            .gateway
            .download(digest)
            .await
            .map_err(|source| SyncError::Fetch {
                what: format!("manifest {hex}"),
                source,
            })?;
        let m = AggregationManifest::decode(&bytes).map_err(|source| SyncError::Manifest {
            digest: hex,
            source,
        })?;
        if m.netuid != self.netuid {
            return Err(SyncError::OtherRun {
                window: m.window,
                field: "netuid",
            });
        }
        if m.hparams_hash != self.hparams_hash {
            return Err(SyncError::OtherRun {
                window: m.window,
                field: "hparams hash",
            });
        }
        Ok(m)
    }

    /// The manifests from the one whose base is `model_hash` up to `latest`, oldest first (empty
    /// when `latest` already produced `model_hash`).
    pub async fn missing(
        &self,
        model_hash: &Digest,
        latest: &Digest,
    ) -> Result<Vec<AggregationManifest>, SyncError> {
        let mut chain = Vec::new();
        let mut next = *latest;
        loop {
            let m = self.manifest(&next).await?;
            if chain.is_empty() && &m.result_model_hash == model_hash {
                return Ok(chain);
            }
            let reached = &m.base_model_hash == model_hash;
            let (first, prev) = (m.is_first(), m.prev_manifest);
            chain.push(m);
            if reached {
                chain.reverse();
                return Ok(chain);
            }
            if first || chain.len() >= MAX_CATCH_UP {
                return Err(SyncError::NotOnChain {
                    model: hex::encode(model_hash),
                    walked: chain.len(),
                });
            }
            next = prev;
        }
    }

    /// Downloads and checks the artifacts `manifest` includes.
    pub async fn artifacts(&self, m: &AggregationManifest) -> Result<Vec<Artifact>, SyncError> {
        let options = DecodeOptions {
            max_len: self.max_artifact_bytes,
            expect: Some(self.expect),
        };
        let options = &options;
        let fetches = m.peers.iter().map(|p| async move {
            let bytes =
                self.gateway
                    .download(&p.digest)
                    .await
                    .map_err(|source| SyncError::Fetch {
                        what: format!("window {} artifact of uid {}", m.window, p.uid),
                        source,
                    })?;
            let bad = |reason: String| SyncError::Artifact {
                window: m.window,
                uid: p.uid,
                reason,
            };
            let a =
                Artifact::decode(&bytes, options).map_err(|e: DecodeError| bad(e.to_string()))?;
            let h = &a.header;
            if h.uid != p.uid || h.window != m.window || h.netuid != m.netuid {
                return Err(bad("its header names another uid, window or subnet".into()));
            }
            Ok(a)
        });
        futures::future::try_join_all(fetches).await
    }
}

/// Applies `manifest`'s outer step to `model`, whose state hash must be the manifest's base.
/// On any error, including a result that differs from the manifest's, the model is restored.
pub fn apply(
    model: &Model,
    manifest: &AggregationManifest,
    artifacts: &[Artifact],
    outer: &OuterParams,
) -> Result<(), SyncError> {
    if manifest.peers.is_empty() {
        return Ok(());
    }
    let snapshot = model.snapshot()?;
    let peers: Vec<&[kiln_protocol::SparseTensor]> =
        artifacts.iter().map(|a| a.tensors.as_slice()).collect();
    outer_step_from_messages(model, &peers, outer).map_err(|source| SyncError::Apply {
        window: manifest.window,
        source,
    })?;
    let got = model.state_hash()?;
    if got != manifest.result_model_hash {
        model.restore(&snapshot)?;
        return Err(SyncError::Diverged {
            window: manifest.window,
            expected: hex::encode(manifest.result_model_hash),
            got: hex::encode(got),
        });
    }
    Ok(())
}

impl ModelSync {
    /// The run's outer step, which manifests are applied with.
    pub fn outer(&self) -> &OuterParams {
        &self.outer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_protocol::aggregation::Peer;
    use kiln_protocol::artifact::ArtifactHeader;
    use kiln_protocol::codec::compress;
    use kiln_runtime_client::H256;
    use kiln_runtime_client::Neuron;
    use kiln_runtime_client::commitments::{Field, Registration};
    use kiln_training::ModelConfig;

    fn neuron(uid: u16, stake: u64) -> Neuron {
        Neuron {
            uid,
            hotkey: AccountId32([uid as u8; 32]),
            coldkey: AccountId32([0; 32]),
            stake,
            validator_permit: true,
            active: true,
            last_update: 0,
            registered_at: 0,
            incentive: 0,
            dividends: 0,
            consensus: 0,
            validator_trust: 0,
            emission: 0,
            axon: None,
        }
    }

    fn commitment(uid: u16, kind: CommitmentKind, window: u64) -> HotkeyCommitment {
        let c = Commitment {
            kind,
            window,
            digest: [uid as u8; 32],
            byte_len: 10,
            locator: "gw".into(),
        };
        HotkeyCommitment {
            hotkey: AccountId32([uid as u8; 32]),
            registration: Registration {
                deposit: 0,
                block: 7,
                fields: vec![Field::Raw(c.encode().unwrap())],
            },
        }
    }

    #[test]
    fn the_lead_is_the_named_validator_or_the_best_staked_publisher() {
        let metagraph = Metagraph {
            netuid: 1,
            block: 9,
            block_hash: H256::zero(),
            neurons: vec![neuron(0, 50), neuron(1, 900), neuron(2, 50), neuron(3, 10)],
        };
        let commitments = vec![
            commitment(0, CommitmentKind::Manifest, 4),
            // uid 1 has the most stake but commits artifacts, not manifests.
            commitment(1, CommitmentKind::Artifact, 5),
            commitment(2, CommitmentKind::Manifest, 5),
            commitment(3, CommitmentKind::Manifest, 6),
            // Not in the metagraph: ignored.
            commitment(9, CommitmentKind::Manifest, 8),
        ];
        // Equal stake: the lower uid leads.
        let lead = lead_manifest(&commitments, &metagraph, None).unwrap();
        assert_eq!(
            (lead.validator, lead.commitment.window, lead.block),
            (AccountId32([0; 32]), 4, 7)
        );
        let named = lead_manifest(&commitments, &metagraph, Some(&AccountId32([3; 32]))).unwrap();
        assert_eq!(named.commitment.window, 6);
        assert!(lead_manifest(&commitments, &metagraph, Some(&AccountId32([1; 32]))).is_none());
        assert!(lead_manifest(&commitments[1..2], &metagraph, None).is_none());
    }

    fn artifact(model: &Model, uid: u16, window: u64) -> Artifact {
        let tensors = model
            .params()
            .iter()
            .map(|(name, var)| {
                let g: Vec<f32> = (0..var.elem_count())
                    .map(|i| ((i * 31 + usize::from(uid)) % 97) as f32 / 97.0 - 0.5)
                    .collect();
                compress(name, var.dims(), &g, 64, 128).unwrap()
            })
            .collect();
        Artifact {
            header: ArtifactHeader {
                netuid: 1,
                uid,
                hotkey: [uid as u8; 32],
                window,
                base_model_hash: model.state_hash().unwrap(),
                hparams_hash: [0; 32],
            },
            tensors,
        }
    }

    #[test]
    fn apply_checks_the_result_and_restores_on_divergence() {
        let outer = OuterParams {
            lr: 0.5,
            mean: kiln_protocol::codec::PeerMean::Selecting,
        };
        let device = candle_core::Device::Cpu;
        let model = Model::init(&ModelConfig::tiny(), 0, &device).unwrap();
        let base = model.state_hash().unwrap();
        let artifacts = vec![artifact(&model, 1, 3), artifact(&model, 2, 3)];
        let mut manifest = AggregationManifest {
            netuid: 1,
            window: 3,
            hparams_hash: [0; 32],
            base_model_hash: base,
            result_model_hash: [7; 32],
            prev_manifest: [0; 32],
            checkpoint: [0; 32],
            peers: vec![
                Peer {
                    uid: 1,
                    digest: [1; 32],
                },
                Peer {
                    uid: 2,
                    digest: [2; 32],
                },
            ],
        };
        let err = apply(&model, &manifest, &artifacts, &outer).unwrap_err();
        assert!(
            matches!(err, SyncError::Diverged { window: 3, .. }),
            "{err}"
        );
        assert_eq!(model.state_hash().unwrap(), base, "restored");

        // The result an independent replica computes is accepted.
        let replica = Model::init(&ModelConfig::tiny(), 0, &device).unwrap();
        let peers: Vec<&[kiln_protocol::SparseTensor]> =
            artifacts.iter().map(|a| a.tensors.as_slice()).collect();
        outer_step_from_messages(&replica, &peers, &outer).unwrap();
        manifest.result_model_hash = replica.state_hash().unwrap();
        assert_ne!(manifest.result_model_hash, base);
        apply(&model, &manifest, &artifacts, &outer).unwrap();
        assert_eq!(model.state_hash().unwrap(), manifest.result_model_hash);
    }
}
