//! One window's compute: train the inner steps on the assigned rows, fold the pseudo-gradient
//! into the error feedback, compress, and encode the artifact. No I/O.

use kiln_protocol::artifact::{Artifact, ArtifactHeader, EncodeError};
use kiln_protocol::codec::{ErrorFeedback, FeedbackError};
use kiln_training::{
    AdamW, InnerConfig, InnerOutcome, Model, NamedDelta, TrainError, train_inner_until,
};
use thiserror::Error;

/// What a window produced. The caller keeps `next_feedback` once the commitment has landed;
/// if it cannot commit, it folds `delta` into its current feedback instead (nothing was sent).
#[derive(Debug)]
pub struct WindowUpdate {
    /// The encoded artifact.
    pub bytes: Vec<u8>,
    /// Its blake3.
    pub digest: [u8; 32],
    /// The error feedback after sending this artifact.
    pub next_feedback: ErrorFeedback,
    /// The window's pseudo-gradient.
    pub delta: Vec<NamedDelta>,
    /// Training losses and token count (its `delta` moved to [`WindowUpdate::delta`]).
    pub training: InnerOutcome,
}

/// Why a window's artifact could not be produced.
#[derive(Debug, Error)]
pub enum RoundError {
    /// Training failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The pseudo-gradient does not fit the error-feedback state.
    #[error(transparent)]
    Feedback(#[from] FeedbackError),
    /// The artifact could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// Trains on `rows` from the model's current parameters (left unchanged), compresses the
/// update with `feedback` (left unchanged) and encodes the artifact for `header`. `stop(h)` is
/// asked before each inner step after the first; `true` ends training early (the window is
/// ending) and the artifact carries the steps that ran.
#[allow(clippy::too_many_arguments)]
pub fn produce(
    model: &Model,
    optimizer: &mut AdamW,
    rows: &[u32],
    seq_len: usize,
    start_step: u64,
    inner: &InnerConfig,
    feedback: &ErrorFeedback,
    header: ArtifactHeader,
    stop: &dyn Fn(usize) -> bool,
) -> Result<WindowUpdate, RoundError> {
    let mut training = train_inner_until(model, optimizer, rows, seq_len, start_step, inner, stop)?;
    let delta = std::mem::take(&mut training.delta);
    let mut next_feedback = feedback.clone();
    let slices: Vec<&[f32]> = delta.iter().map(|d| d.values.as_slice()).collect();
    let tensors = next_feedback.step(&slices)?;
    let bytes = Artifact { header, tensors }.encode()?;
    let digest = *blake3::hash(&bytes).as_bytes();
    Ok(WindowUpdate {
        bytes,
        digest,
        next_feedback,
        delta,
        training,
    })
}
