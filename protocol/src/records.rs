//! What runs measure and keep: figures per epoch and part way through one, a run's record as
//! saved beside its weights, reconstructions, and the pretrained models' first-view pack.

use serde::{Deserialize, Serialize};

use crate::Experiment;
use crate::data::IMAGE_PIXELS;

/// One epoch's results, as Keras' `History` reports them: training figures are running means
/// over the epoch's batches, validation figures are on the whole test set after the epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub loss: f64,
    pub rounded_accuracy: f64,
    pub val_loss: f64,
    pub val_rounded_accuracy: f64,
    /// Wall-clock time of the epoch, validation included.
    pub seconds: f64,
}

/// Running figures part way through an epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The epoch under way, from 1.
    pub epoch: usize,
    /// Steps done in this epoch, out of `steps`.
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
    pub rounded_accuracy: f64,
}

/// A run's record beside its weights: how it was trained and what it measured, and optionally
/// the t-SNE map of the test codes (x, y per test image). "Save history" writes it as JSON. No
/// field is ever left out when written (the wire's format is positional); older records without
/// `started_from` or `map` still read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub experiment: Experiment,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub seed: u64,
    /// What produced it: a command line and commit, or "trained in the browser".
    pub source: String,
    pub history: Vec<EpochRecord>,
    /// The weights the run started from, when not fresh ones: the chapter trains the denoising
    /// and dropout models on top of the trained tied model.
    #[serde(default)]
    pub started_from: Option<String>,
    #[serde(default)]
    pub map: Vec<f32>,
}

/// How to corrupt an input: Gaussian noise of `noise_stddev` is added, then a share
/// `dropout_rate` of the pixels is zeroed and the rest scaled by `1 / (1 - rate)`, as the
/// denoising and dropout models see their inputs in training, at any level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Corruption {
    pub noise_stddev: f64,
    pub dropout_rate: f64,
}

impl Corruption {
    /// Whether it changes an image at all: some noise or some dropout.
    pub fn corrupts(self) -> bool {
        self.noise_stddev > 0.0 || self.dropout_rate > 0.0
    }

    /// Clamped to what makes sense: stddev 0 to 10, rate 0 to 0.99.
    pub fn clamped(self) -> Self {
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        Self {
            noise_stddev: finite(self.noise_stddev).clamp(0.0, 10.0),
            dropout_rate: finite(self.dropout_rate).clamp(0.0, 0.99),
        }
    }
}

/// Test images as a model saw and rebuilt them: `count` images of 784 values in [0, 1] each.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reconstructions {
    pub originals: Vec<f32>,
    /// The corrupted input, for the denoising and dropout experiments.
    pub seen: Option<Vec<f32>>,
    pub outputs: Vec<f32>,
}

impl Reconstructions {
    /// Images in each row.
    pub fn count(&self) -> usize {
        self.originals.len() / IMAGE_PIXELS
    }

    /// Every row holds the same whole number of images, all values finite (what the model sees
    /// can leave [0, 1]: noise is added to the pixels).
    fn is_well_formed(&self) -> bool {
        let rows = [Some(&self.originals), self.seen.as_ref(), Some(&self.outputs)];
        let size = self.originals.len();
        size % IMAGE_PIXELS == 0 && rows.into_iter().flatten().all(|row| row.len() == size && row.iter().all(|v| v.is_finite()))
    }
}

/// Test images reconstructed at a time: the first ones unless the visitor picks others.
pub const RECONSTRUCTIONS_SHOWN: usize = 6;

/// A pretrained model's first view, precomputed by `fmnist-ae pretrain` beside its weights: its
/// record (curves, settings, t-SNE map), its reconstructions of the first test images, and the
/// test images' labels that colour the map. The page draws it before any engine or data is in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirstView {
    pub record: RunRecord,
    /// The test images reconstructed, in order.
    pub sample: Vec<usize>,
    pub reconstructions: Reconstructions,
    /// Every test image's label, in order: the map's colours.
    #[serde(with = "serde_bytes")]
    pub labels: Vec<u8>,
}

/// Why a first-view pack cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PackError {
    #[error("not a first-view pack ({0})")]
    Format(String),
    #[error("a first-view pack of another version ({found}; this page reads {expected}): rebuild it with `fmnist-ae pretrain`")]
    Version { found: u32, expected: u32 },
    #[error("the pack's figures do not fit together ({0})")]
    Inconsistent(&'static str),
}

/// The start of every pack, and its format's version.
const PACK_MAGIC: &[u8; 8] = b"FMNISTFV";
const PACK_VERSION: u32 = 1;

impl FirstView {
    /// The pack's file name beside the weights.
    pub fn file_name(experiment: Experiment) -> String {
        format!("{experiment}.view.bin")
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = PACK_MAGIC.to_vec();
        bytes.extend(PACK_VERSION.to_le_bytes());
        bytes.extend(crate::wire::encode(self));
        bytes
    }

    /// Reads a pack, checking that its parts fit together: the page never draws a broken one.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PackError> {
        let body = bytes.strip_prefix(PACK_MAGIC.as_slice()).ok_or_else(|| PackError::Format("no pack header".into()))?;
        let (version, body) = body.split_first_chunk::<4>().ok_or_else(|| PackError::Format("truncated header".into()))?;
        let found = u32::from_le_bytes(*version);
        if found != PACK_VERSION {
            return Err(PackError::Version { found, expected: PACK_VERSION });
        }
        let view: Self = crate::wire::decode(body).map_err(|e| PackError::Format(e.to_string()))?;
        view.check()?;
        Ok(view)
    }

    fn check(&self) -> Result<(), PackError> {
        if !self.reconstructions.is_well_formed() || self.reconstructions.count() != self.sample.len() {
            return Err(PackError::Inconsistent("reconstructions"));
        }
        if self.labels.iter().any(|&l| l >= 10) || self.sample.iter().any(|&i| i >= self.labels.len()) {
            return Err(PackError::Inconsistent("labels"));
        }
        let map = &self.record.map;
        if !(map.is_empty() || map.len() == 2 * self.labels.len()) || map.iter().any(|v| !v.is_finite()) {
            return Err(PackError::Inconsistent("map"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn view() -> FirstView {
        let history = vec![EpochRecord { epoch: 1, loss: 0.4, rounded_accuracy: 0.8, val_loss: 0.35, val_rounded_accuracy: 0.85, seconds: 2.5 }];
        let record = RunRecord {
            experiment: Experiment::Denoising,
            epochs: 1,
            batch_size: 32,
            learning_rate: 1.5,
            seed: 0,
            source: "test".into(),
            history,
            started_from: None,
            map: vec![0.5, -1.0, 2.0, 3.0, -4.0, 0.0],
        };
        let image = |v: f32| vec![v; 2 * IMAGE_PIXELS];
        // Noise takes what the model sees out of [0, 1].
        let reconstructions = Reconstructions { originals: image(0.25), seen: Some(image(1.3)), outputs: image(0.0) };
        FirstView { record, sample: vec![2, 0], reconstructions, labels: vec![9, 0, 3] }
    }

    #[test]
    fn a_pack_round_trips() {
        let view = view();
        assert_eq!(FirstView::from_bytes(&view.to_bytes()), Ok(view));
        assert_eq!(FirstView::file_name(Experiment::Tied), "tied.view.bin");
    }

    #[test]
    fn broken_packs_are_refused_with_a_reason() {
        let bytes = view().to_bytes();
        assert!(matches!(FirstView::from_bytes(b"<html>"), Err(PackError::Format(_))));
        assert!(matches!(FirstView::from_bytes(&bytes[..bytes.len() / 2]), Err(PackError::Format(_))));
        let mut other = bytes.clone();
        other[8] = 9;
        assert_eq!(FirstView::from_bytes(&other), Err(PackError::Version { found: 9, expected: PACK_VERSION }));
        let broken = |change: fn(&mut FirstView)| {
            let mut view = view();
            change(&mut view);
            FirstView::from_bytes(&view.to_bytes())
        };
        assert_eq!(broken(|v| v.labels.push(10)), Err(PackError::Inconsistent("labels")));
        assert_eq!(broken(|v| v.sample = vec![5, 0]), Err(PackError::Inconsistent("labels")));
        assert_eq!(broken(|v| v.record.map.pop().map(drop).unwrap_or(())), Err(PackError::Inconsistent("map")));
        assert_eq!(broken(|v| v.record.map[0] = f32::NAN), Err(PackError::Inconsistent("map")));
        assert_eq!(broken(|v| v.reconstructions.outputs.truncate(10)), Err(PackError::Inconsistent("reconstructions")));
        assert_eq!(broken(|v| v.sample.push(1)), Err(PackError::Inconsistent("reconstructions")));
        assert_eq!(broken(|v| v.reconstructions.originals[3] = f32::INFINITY), Err(PackError::Inconsistent("reconstructions")));
    }

    #[test]
    fn a_pack_without_a_map_is_fine() {
        let mut view = view();
        view.record.map.clear();
        assert_eq!(FirstView::from_bytes(&view.to_bytes()), Ok(view));
    }

    #[test]
    fn corruption_is_clamped() {
        let wild = Corruption { noise_stddev: f64::NAN, dropout_rate: 3.0 }.clamped();
        assert_eq!(wild, Corruption { noise_stddev: 0.0, dropout_rate: 0.99 });
    }

    #[test]
    fn only_noise_or_dropout_corrupts() {
        assert!(!Corruption::default().corrupts());
        assert!(Corruption { noise_stddev: 0.2, dropout_rate: 0.0 }.corrupts());
        assert!(Corruption { noise_stddev: 0.0, dropout_rate: 0.5 }.corrupts());
    }
}
