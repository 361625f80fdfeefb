//! What a training run tells the page: plain numbers and pixels, no tensors.

use model::{EpochRecord, Progress};

/// Test images as the model saw and rebuilt them, `count` images of 784 values in [0, 1] each.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconstructions {
    pub originals: Vec<f32>,
    /// The corrupted input, for the denoising and dropout experiments.
    pub seen: Option<Vec<f32>>,
    pub outputs: Vec<f32>,
}

/// What the run tells the page.
#[derive(Debug)]
pub enum RunEvent {
    Progress(Progress),
    /// Validation has covered `done` of `total` test images.
    Validating { done: usize, total: usize },
    Epoch(EpochRecord),
    Reconstructions(Reconstructions),
    /// The GPU failed (`why`); the run goes on on the CPU from `kept` finished epochs.
    MovedToCpu { kept: usize, why: String },
}
