//! Token-shard datasets: the manifest, writing, reading from object stores, synthesis and
//! tokenization.

pub use kiln_protocol::dataset as manifest;
pub mod reader;
pub mod synth;
pub mod tokenize;
pub mod writer;

pub use manifest::{MANIFEST_FILE, Manifest, ShardInfo};
pub use reader::{Dataset, DatasetError};
pub use synth::{Synth, SynthConfig};
pub use tokenize::{BuildReport, Tokenizer, build};
pub use writer::{ShardWriter, WriteError};
