//! Where the math runs: the CPU by default, a CUDA GPU with the `cuda` feature.

use candle_core::{DType, Device};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A device by name: `cpu` or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The host CPU.
    Cpu,
    /// CUDA GPU number N (needs the `cuda` feature).
    Cuda(usize),
}

/// Why a device could not be opened.
#[derive(Debug, Error)]
pub enum DeviceError {
    /// The name is neither `cpu` nor `cuda[:N]`.
    #[error("unknown device {0:?} (expected cpu or cuda:N)")]
    Parse(String),
    /// This binary was built without the `cuda` feature.
    #[error("device {0} needs a binary built with the `cuda` feature")]
    NotCompiled(DeviceSpec),
    /// The driver refused.
    #[error("opening {spec}: {source}")]
    Open {
        /// The device.
        spec: DeviceSpec,
        /// The cause.
        source: candle_core::Error,
    },
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| DeviceError::Parse(s.into())),
        }
    }
}

impl DeviceSpec {
    /// Opens the device.
    pub fn open(self) -> Result<Device, DeviceError> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(n) if cfg!(feature = "cuda") => {
                Device::new_cuda(n).map_err(|source| DeviceError::Open { spec: self, source })
            }
            Self::Cuda(_) => Err(DeviceError::NotCompiled(self)),
        }
    }
}

/// Every device this binary can use right now: the CPU, plus GPU 0 when the `cuda` feature is
/// compiled in and a GPU answers. Tests run their body once per entry.
pub fn available() -> Vec<(DeviceSpec, Device)> {
    let mut out = vec![(DeviceSpec::Cpu, Device::Cpu)];
    if cfg!(feature = "cuda")
        && let Ok(d) = DeviceSpec::Cuda(0).open()
    {
        out.push((DeviceSpec::Cuda(0), d));
    }
    out
}

/// The arithmetic the forward pass runs in. Parameters and optimizer state always stay `f32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Everything in f32 (the CPU default, and what evaluation uses for reproducible scores).
    #[default]
    F32,
    /// Matrix products in bf16 with f32 master weights (GPU training).
    Bf16,
}

impl Precision {
    /// The candle dtype of the matrix products.
    pub fn dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::Bf16 => DType::BF16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("cuda".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        assert_eq!("cuda:3".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(3));
        assert!("gpu".parse::<DeviceSpec>().is_err());
        assert!("cuda:x".parse::<DeviceSpec>().is_err());
        assert_eq!(DeviceSpec::Cuda(2).to_string(), "cuda:2");
        assert_eq!(available()[0].0, DeviceSpec::Cpu);
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_is_a_clear_error() {
        assert!(matches!(
            DeviceSpec::Cuda(0).open(),
            Err(DeviceError::NotCompiled(DeviceSpec::Cuda(0)))
        ));
    }
}
