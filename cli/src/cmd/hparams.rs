//! `kiln hparams`: presets, validation and the canonical hash.

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use kiln_protocol::Hparams;
use kiln_protocol::hparams::PRESETS;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Toml,
    Json,
}

/// `kiln hparams ...`
#[derive(Debug, Subcommand)]
pub(crate) enum HparamsCmd {
    /// Print a preset (tiny, 1b, 72b) or a file, and its hash.
    Show {
        /// Preset name.
        #[arg(
            long,
            env = "KILN_PRESET",
            default_value = "tiny",
            conflicts_with = "file"
        )]
        preset: String,
        /// A TOML or JSON hparams file instead of a preset.
        #[arg(long, env = "KILN_HPARAMS")]
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "toml")]
        format: Format,
    },
    /// Validate a TOML or JSON file and print its hash.
    Validate {
        /// The file (`.json` is read as JSON, anything else as TOML).
        file: PathBuf,
    },
}

/// Loads hparams from a file, by extension.
pub(crate) fn load(path: &PathBuf) -> Result<Hparams> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let parsed = if path.extension().is_some_and(|e| e == "json") {
        Hparams::from_json_str(&text)
    } else {
        Hparams::from_toml_str(&text)
    };
    parsed.with_context(|| format!("in {}", path.display()))
}

/// A named preset, or an error listing the presets.
pub(crate) fn preset(name: &str) -> Result<Hparams> {
    match Hparams::preset(name) {
        Some(h) => Ok(h),
        None => bail!(
            "unknown preset {name:?}; choose one of {}",
            PRESETS.join(", ")
        ),
    }
}

impl HparamsCmd {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::Show {
                preset: name,
                file,
                format,
            } => {
                let h = match file {
                    Some(f) => load(&f)?,
                    None => preset(&name)?,
                };
                match format {
                    Format::Toml => print!("{}", h.to_toml_string()),
                    Format::Json => println!("{}", h.to_json_string()),
                }
                eprintln!("hparams_hash {}", hex(&h.hparams_hash()));
            }
            Self::Validate { file } => {
                let h = load(&file)?;
                println!("valid {} hparams_hash {}", h.name, hex(&h.hparams_hash()));
            }
        }
        Ok(())
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
