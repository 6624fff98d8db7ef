//! SparseLoCo: chunked top-k sparsification, 2-bit codebook quantization, error feedback, and
//! robust aggregation. See `docs/protocol.md` for the rules in full.

pub mod aggregate;
pub(crate) mod bits;
pub mod elias_fano;
pub mod feedback;
mod fit;
pub mod geometry;
pub mod quant;
pub mod sparse;
mod topk;

pub use aggregate::{
    AggregateError, PeerMean, aggregate, aggregate_into, aggregate_tensor, aggregate_tensor_into,
};
pub use feedback::{ErrorFeedback, FeedbackError, TensorSpec};
pub use geometry::{Geometry, GeometryError, MAX_CHUNK_SIDE, MAX_TENSOR_ELEMENTS};
pub use quant::{Codebook, Coder};
pub use sparse::{CompressError, SparseTensor, compress, compress_with};
