//! Stacked autoencoders on Fashion-MNIST, after the textbook chapter: the data (IDX files and the
//! page's shards), the four models, the loss and metric, and a training loop that runs natively
//! and in the browser. Backend-generic: pass any burn [`Device`](burn::prelude::Device).

mod autoencoder;
mod cpu_step;
pub mod embedding;
#[cfg(feature = "wgpu")]
mod fused;
pub mod latent;
pub mod loss;
pub mod neighbours;
mod summary;
mod train;
pub mod weights;

pub use autoencoder::{Autoencoder, AutoencoderConfig, ConfigError};
/// The chapter's experiments, their models' shapes and records: plain facts the page shares
/// without burn (the protocol crate), with one definition.
pub use protocol::{
    Activation, DEFAULT_DROPOUT_RATE, DEFAULT_NOISE_STDDEV, EpochRecord, Experiment, LayerKind, LayerSummary, ModelShape,
    Progress, Reconstructions, UnknownExperiment,
};
pub use train::{
    Evaluation, StepEngine, StepProfile, TrainError, TrainEvent, Trainer, TrainingConfig, batch_tensor,
    read_values, seconds_per_step,
};

/// burn itself, at the version this crate uses, so callers name the same types.
pub use burn;
/// Fashion-MNIST as bytes (IDX files, the page's shards, class names): its own crate, so the
/// shards are written without building burn.
pub use protocol::data;
