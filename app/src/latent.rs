//! The latent tools' compute side: an image (a test image or the visitor's drawing) through the
//! shown model, the same image corrupted at any level, and walks between two codes. Plain
//! numbers in, plain numbers out.

use model::latent::{Corruption, interpolate};
use model::{TrainError, Trainer, read_values};

/// An image, its code and its reconstruction.
#[derive(Clone, Debug, PartialEq)]
pub struct Look {
    pub original: Vec<f32>,
    pub code: Vec<f32>,
    pub reconstruction: Vec<f32>,
}

/// An image as corrupted, and the model's reconstruction of that.
#[derive(Clone, Debug, PartialEq)]
pub struct Corrupted {
    pub seen: Vec<f32>,
    pub reconstruction: Vec<f32>,
}

/// Images decoded along the line between two codes, ends included.
pub const WALK_STEPS: usize = 9;

pub async fn look(trainer: &Trainer, pixels: Vec<f32>) -> Result<Look, TrainError> {
    let code = read_values([trainer.encode_pixels(&pixels)]).await?.concat();
    let reconstruction = read_values([trainer.decode_codes(&code)]).await?.concat();
    Ok(Look { original: pixels, code, reconstruction })
}

pub async fn corrupted(trainer: &Trainer, pixels: &[f32], corruption: Corruption) -> Result<Corrupted, TrainError> {
    let (seen, reconstruction) = trainer.reconstruct_corrupted(pixels, corruption);
    let mut values = read_values([seen, reconstruction]).await?.into_iter();
    Ok(Corrupted { seen: values.next().unwrap_or_default(), reconstruction: values.next().unwrap_or_default() })
}

/// [`WALK_STEPS`] images decoded from codes evenly spaced between the codes of `from` and `to`.
pub async fn walk(trainer: &Trainer, from: &[f32], to: &[f32]) -> Result<Vec<f32>, TrainError> {
    let pixels = [from, to].concat();
    let codes = read_values([trainer.encode_pixels(&pixels)]).await?.concat();
    let (a, b) = codes.split_at(codes.len() / 2);
    Ok(read_values([trainer.decode_codes(&interpolate(a, b, WALK_STEPS))]).await?.concat())
}
