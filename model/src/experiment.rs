//! The chapter's four experiments, as presets of one model family.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::AutoencoderConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Experiment {
    /// Encoder 784-128-64-32, mirrored decoder with its own kernels.
    Stacked,
    /// The decoder reuses the transposed encoder kernels: half the parameters.
    Tied,
    /// Tied, with Gaussian noise (stddev 0.2) on the input while training.
    Denoising,
    /// Tied, with dropout (rate 0.5) on the input while training.
    Dropout,
}

pub const DEFAULT_NOISE_STDDEV: f64 = 0.2;
pub const DEFAULT_DROPOUT_RATE: f64 = 0.5;

impl Experiment {
    pub const ALL: [Experiment; 4] = [Self::Stacked, Self::Tied, Self::Denoising, Self::Dropout];

    pub fn name(self) -> &'static str {
        match self {
            Self::Stacked => "stacked",
            Self::Tied => "tied",
            Self::Denoising => "denoising",
            Self::Dropout => "dropout",
        }
    }

    /// The chapter trains this one on top of the trained tied model (same layers, so the tied
    /// model's weights fit it).
    pub fn builds_on_tied(self) -> bool {
        matches!(self, Self::Denoising | Self::Dropout)
    }

    /// The model as the chapter builds it for this experiment.
    pub fn model_config(self) -> AutoencoderConfig {
        let tied = AutoencoderConfig::new().with_tied(true);
        match self {
            Self::Stacked => AutoencoderConfig::new(),
            Self::Tied => tied,
            Self::Denoising => tied.with_noise_stddev(DEFAULT_NOISE_STDDEV),
            Self::Dropout => tied.with_dropout_rate(DEFAULT_DROPOUT_RATE),
        }
    }
}

impl fmt::Display for Experiment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown experiment {0:?}: choose stacked, tied, denoising or dropout")]
pub struct UnknownExperiment(pub String);

impl FromStr for Experiment {
    type Err = UnknownExperiment;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| UnknownExperiment(name.to_string()))
    }
}
