//! Stacked autoencoders on Fashion-MNIST, after the textbook chapter: the data (IDX files and the
//! page's shards), the four models, the loss and metric, and a training loop that runs natively
//! and in the browser. Backend-generic: pass any burn [`Device`](burn::prelude::Device).

mod autoencoder;
pub mod embedding;
mod experiment;
#[cfg(feature = "wgpu")]
mod fused;
pub mod latent;
pub mod loss;
pub mod neighbours;
mod summary;
mod train;
pub mod weights;

pub use autoencoder::{Autoencoder, AutoencoderConfig, ConfigError};
pub use experiment::{DEFAULT_DROPOUT_RATE, DEFAULT_NOISE_STDDEV, Experiment, UnknownExperiment};
pub use summary::{Activation, LayerKind, LayerSummary};
pub use train::{
    EpochRecord, Evaluation, Progress, StepEngine, StepProfile, TrainError, TrainEvent, Trainer, TrainingConfig, batch_tensor,
    read_values, seconds_per_step,
};

/// burn itself, at the version this crate uses, so callers name the same types.
pub use burn;
/// Fashion-MNIST as bytes (IDX files, the page's shards, class names): its own crate, so the
/// shards are written without building burn.
pub use fmnist_data as data;
