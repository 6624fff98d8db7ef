//! `--config FILE`: a command's flags from a TOML file. Each key is a long flag name of the
//! command being run (`database-url` or `database_url`); a command-line flag or an environment
//! variable wins over the file, and the file wins over the built-in default.

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The global flag's id.
pub(crate) const CONFIG_ID: &str = "config";
/// The id of `--check-config`, which loads its file as `--config` does.
const CHECK_ID: &str = "check_config";

/// Why a config file could not be applied.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// Reading the file failed.
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML.
    #[error("{path}: {source}")]
    Toml {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    /// A key names no flag of the command.
    #[error("{path}: `{command}` has no flag --{key}")]
    UnknownKey {
        path: PathBuf,
        command: String,
        key: String,
    },
    /// A value is not a string, number, boolean or array of them.
    #[error("{path}: the value of {key} must be a string, number, boolean or array of them")]
    BadValue { path: PathBuf, key: String },
}

/// Parses the command line, applying `--config` when given. Exits on clap errors as clap does.
pub(crate) fn parse<T: CommandFactory + FromArgMatches>() -> Result<T, ConfigError> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cmd = T::command();
    // A first, lenient pass finds the command and its file: a required flag may be in the file.
    let extra = match cmd.clone().ignore_errors(true).try_get_matches_from(&args) {
        Ok(lenient) => from_file(&cmd, &lenient)?,
        Err(_) => Vec::new(),
    };
    let mut all = args;
    all.extend(extra);
    let matches = cmd.try_get_matches_from(all).unwrap_or_else(|e| e.exit());
    Ok(T::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
}

/// The flags the config file adds: `--key=value` for every key the command line and the
/// environment left at its default.
fn from_file(root: &Command, matches: &ArgMatches) -> Result<Vec<OsString>, ConfigError> {
    let (mut cmd, mut leaf) = (root, matches);
    let mut name = root.get_name().to_owned();
    while let Some((sub, sub_matches)) = leaf.subcommand() {
        let Some(c) = cmd.find_subcommand(sub) else {
            break;
        };
        name = format!("{name} {sub}");
        cmd = c;
        leaf = sub_matches;
    }
    // A command with its own `--config` (the gateway's settings file) reads it itself.
    if !std::ptr::eq(cmd, root) && cmd.get_arguments().any(|a| a.get_id() == CONFIG_ID) {
        return Ok(Vec::new());
    }
    let Some(path) = [CONFIG_ID, CHECK_ID]
        .into_iter()
        .find_map(|id| leaf.try_get_one::<PathBuf>(id).ok().flatten().cloned())
    else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let table: toml::Table = text.parse().map_err(|source| ConfigError::Toml {
        path: path.clone(),
        source: Box::new(source),
    })?;
    let mut out = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let Some(arg) = cmd.get_arguments().find(|a| {
            a.get_long() == Some(flag.as_str())
                && ![CONFIG_ID, CHECK_ID].contains(&a.get_id().as_str())
        }) else {
            return Err(ConfigError::UnknownKey {
                path,
                command: name,
                key,
            });
        };
        let explicit = matches!(
            leaf.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if explicit {
            continue;
        }
        let is_switch = matches!(arg.get_action(), ArgAction::SetTrue);
        for v in values(&path, &key, &value)? {
            match (is_switch, v.as_str()) {
                (true, "true") => out.push(format!("--{flag}").into()),
                (true, _) => {}
                (false, _) => out.push(format!("--{flag}={v}").into()),
            }
        }
    }
    Ok(out)
}

fn values(path: &Path, key: &str, value: &toml::Value) -> Result<Vec<String>, ConfigError> {
    let bad = || ConfigError::BadValue {
        path: path.to_path_buf(),
        key: key.to_owned(),
    };
    Ok(match value {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Integer(i) => vec![i.to_string()],
        toml::Value::Float(f) => vec![f.to_string()],
        toml::Value::Boolean(b) => vec![b.to_string()],
        toml::Value::Array(items) => items
            .iter()
            .map(|v| match values(path, key, v)?.as_slice() {
                [one] => Ok(one.clone()),
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad()),
    })
}
