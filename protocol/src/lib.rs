//! What the page's two programs share, and nothing that computes: the **shell** (`app/`, on the
//! page's thread: it draws) and the **engine** (`engine/`, a dedicated worker: burn, training,
//! the data) exchange only the types here, encoded by [`wire`].
//!
//! - [`chapter`]: the chapter's four experiments and their models as plain facts (layer sizes,
//!   tying, corruption) and their Keras-style summary, so the shell can describe a model without
//!   building one;
//! - [`records`]: what a run measured (per epoch, part way through an epoch), a run's record as
//!   saved, and the pretrained models' first-view pack;
//! - [`messages`]: the requests, replies and events between shell and engine.
//!
//! The model crate re-exports the shared types, so they have one definition.

pub mod chapter;
pub mod messages;
pub mod records;
pub mod wire;

pub use chapter::{
    Activation, DEFAULT_DROPOUT_RATE, DEFAULT_NOISE_STDDEV, Experiment, LAYER_SIZES, LayerKind, LayerSummary, ModelShape,
    UnknownExperiment,
};
pub use records::{Corruption, EpochRecord, FirstView, PackError, Progress, RECONSTRUCTIONS_SHOWN, Reconstructions, RunRecord};
/// Fashion-MNIST as bytes: the shell draws test images, the engine fetches the shards.
pub use fmnist_data as data;
