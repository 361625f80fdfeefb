//! What the page asks of a model besides training: its codes and what they show (a PCA map,
//! nearest neighbours), an image looked at, corrupted, or walked to another, a drawing placed on
//! the map, and what the comparison measures. Plain numbers in and out; tensors are read back
//! without blocking.

use model::data::{IMAGE_PIXELS, LabeledImages};
use model::embedding::pca_projection;
use model::latent::{interpolate, place_on_map};
use model::neighbours::nearest_neighbour_accuracy;
use model::latent::Corruption;
use model::{TrainError, Trainer, read_values};
use protocol::messages::{Codes, Corrupted, KNN_ROWS, Lessons, Look, Placement};

use crate::worker::{now, yield_now};

/// Test images encoded at a time, so the worker takes messages in between.
const CHUNK: usize = 1000;

/// The codes of every image in `images`.
pub async fn codes(trainer: &Trainer, images: &LabeledImages) -> Result<Codes, TrainError> {
    let mut values = Vec::with_capacity(images.len() * trainer.config().model.code_size());
    for start in (0..images.len()).step_by(CHUNK) {
        values.extend(read_values([trainer.encode(&images.slice(start..start + CHUNK))]).await?.concat());
        yield_now().await;
    }
    Ok(Codes { values, dim: trainer.config().model.code_size() })
}

/// `points` (`dim` values a row) mapped by PCA, timed, and how often a row's nearest row among
/// the first [`KNN_ROWS`] shares its label.
pub async fn lessons(points: &[f32], dim: usize, labels: &[u8]) -> Lessons {
    let started = now();
    let map = pca_projection(points, dim);
    let seconds = (now() - started) / 1e3;
    yield_now().await;
    let accuracy = nearest_neighbour_accuracy(points, dim, labels, KNN_ROWS);
    Lessons { map, seconds, accuracy }
}

/// The raw pixels' lessons: no model at all, the yardstick for the codes'.
pub async fn pixel_lessons(test: &LabeledImages) -> Lessons {
    let pixels: Vec<f32> = test.pixels().iter().map(|&p| f32::from(p) / 255.0).collect();
    lessons(&pixels, IMAGE_PIXELS, test.labels()).await
}

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

/// `steps` images decoded from codes evenly spaced between the codes of `from` and `to`.
pub async fn walk(trainer: &Trainer, from: &[f32], to: &[f32], steps: usize) -> Result<Vec<f32>, TrainError> {
    let pixels = [from, to].concat();
    let codes = read_values([trainer.encode_pixels(&pixels)]).await?.concat();
    let (a, b) = codes.split_at(codes.len() / 2);
    Ok(read_values([trainer.decode_codes(&interpolate(a, b, steps))]).await?.concat())
}

/// Where a code lands on `map` among the test `codes`: at the distance-weighted mean of its 10
/// nearest codes' places (t-SNE has no transform for new points).
pub fn place(codes: &Codes, map: &[f32], code: &[f32]) -> Option<Placement> {
    place_on_map(&codes.values, codes.dim, map, code, 10)
}

/// How often a code's nearest code, among the first [`KNN_ROWS`] test images, shares its class.
pub async fn code_accuracy(trainer: &Trainer, test: &LabeledImages) -> Result<f64, TrainError> {
    let known = test.slice(0..KNN_ROWS.min(test.len()));
    let codes = codes(trainer, &known).await?;
    Ok(nearest_neighbour_accuracy(&codes.values, codes.dim, known.labels(), KNN_ROWS))
}
