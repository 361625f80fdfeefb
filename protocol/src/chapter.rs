//! The chapter's four experiments, as presets of one model family, and that family's shape as
//! plain facts: layer sizes, tied kernels, input corruption. The model crate builds a model from
//! a shape; the page describes one from it (Keras' `model.summary()`) before any model exists.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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
/// The chapter's layers: the 784 pixels, then each encoder layer's width.
pub const LAYER_SIZES: [usize; 4] = [784, 128, 64, 32];

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
    pub fn shape(self) -> ModelShape {
        let tied = ModelShape { tied: true, ..ModelShape::default() };
        match self {
            Self::Stacked => ModelShape::default(),
            Self::Tied => tied,
            Self::Denoising => ModelShape { noise_stddev: DEFAULT_NOISE_STDDEV, ..tied },
            Self::Dropout => ModelShape { dropout_rate: DEFAULT_DROPOUT_RATE, ..tied },
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

/// One autoencoder of the family: what the model crate's `AutoencoderConfig` holds, without
/// burn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelShape {
    /// Input size, then each encoder layer's width; the decoder mirrors them.
    pub layer_sizes: Vec<usize>,
    /// Decoder layers reuse the transposed encoder kernels (each keeps its own bias).
    pub tied: bool,
    /// Standard deviation of Gaussian noise added to the input in training (0: none).
    pub noise_stddev: f64,
    /// Share of input pixels zeroed in training, survivors scaled by 1/(1-rate) (0: none).
    pub dropout_rate: f64,
}

impl Default for ModelShape {
    /// The chapter's stacked autoencoder.
    fn default() -> Self {
        Self { layer_sizes: LAYER_SIZES.to_vec(), tied: false, noise_stddev: 0.0, dropout_rate: 0.0 }
    }
}

/// One row of the model's table, as Keras' `model.summary()` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSummary {
    /// A plain identifier in Keras' style ("dense_1", "dense_transpose_1"), the same in every
    /// language; the page translates [`kind`](Self::kind) instead.
    pub name: String,
    pub kind: LayerKind,
    /// Units per image.
    pub output: usize,
    /// Trainable numbers this layer owns; a shared kernel counts once, with its owner.
    pub parameters: usize,
    /// For a [`LayerKind::DenseTranspose`], the name of the encoder layer whose kernel it uses.
    pub shares_kernel_with: Option<String>,
}

/// The kinds of layer in the chapter's Keras code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LayerKind {
    /// The flattened 28×28 image.
    Input,
    /// `GaussianNoise(stddev)`: adds noise to the input in training only (the denoising model).
    GaussianNoise { stddev: f64 },
    /// `Dropout(rate)`: zeroes that share of the input in training only (the dropout model).
    Dropout { rate: f64 },
    /// `Dense(units, activation)`: its own kernel and bias.
    Dense { activation: Activation },
    /// The chapter's `DenseTranspose(dense, activation)`: the transposed kernel of an encoder
    /// layer and its own bias (the tied models' decoder).
    DenseTranspose { activation: Activation },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    Relu,
    /// The decoder's last layer: pixel intensities as probabilities in [0, 1].
    Sigmoid,
}

impl ModelShape {
    /// The size of the codes: the last encoder layer's width.
    pub fn code_size(&self) -> usize {
        self.layer_sizes.last().copied().unwrap_or(0)
    }

    /// The layers from input to reconstruction: the input, its corruption (noise, then
    /// dropout, as the model applies them), the encoder's dense layers, then the mirrored
    /// decoder's, ReLU throughout but a sigmoid at the end.
    pub fn summary(&self) -> Vec<LayerSummary> {
        let sizes = &self.layer_sizes;
        let Some(&input) = sizes.first() else {
            return Vec::new();
        };
        let layer =
            |name: String, kind, output, parameters| LayerSummary { name, kind, output, parameters, shares_kernel_with: None };
        let mut layers = vec![layer("input".into(), LayerKind::Input, input, 0)];
        if self.noise_stddev > 0.0 {
            layers.push(layer("gaussian_noise".into(), LayerKind::GaussianNoise { stddev: self.noise_stddev }, input, 0));
        }
        if self.dropout_rate > 0.0 {
            layers.push(layer("dropout".into(), LayerKind::Dropout { rate: self.dropout_rate }, input, 0));
        }
        let relu = LayerKind::Dense { activation: Activation::Relu };
        let encoder: Vec<String> = (1..sizes.len()).map(|i| format!("dense_{i}")).collect();
        for (name, w) in encoder.iter().zip(sizes.windows(2)) {
            layers.push(layer(name.clone(), relu, w[1], w[0] * w[1] + w[1]));
        }
        // The decoder walks the encoder backwards: its i-th layer mirrors encoder layer
        // `mirror`, mapping that layer's output size back to its input size.
        for (i, mirror) in (0..encoder.len()).rev().enumerate() {
            let (units, inputs) = (sizes[mirror], sizes[mirror + 1]);
            let activation = if mirror == 0 { Activation::Sigmoid } else { Activation::Relu };
            layers.push(if self.tied {
                LayerSummary {
                    name: format!("dense_transpose_{}", i + 1),
                    kind: LayerKind::DenseTranspose { activation },
                    output: units,
                    parameters: units,
                    shares_kernel_with: Some(encoder[mirror].clone()),
                }
            } else {
                layer(format!("dense_{}", encoder.len() + i + 1), LayerKind::Dense { activation }, units, inputs * units + units)
            });
        }
        layers
    }

    /// The [`summary`](Self::summary)'s parameters added up: all the model's trainable numbers.
    pub fn total_parameters(&self) -> usize {
        self.summary().iter().map(|layer| layer.parameters).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(shape: &ModelShape) -> Vec<(String, LayerKind, usize, usize, Option<String>)> {
        shape.summary().into_iter().map(|l| (l.name, l.kind, l.output, l.parameters, l.shares_kernel_with)).collect()
    }

    const RELU: LayerKind = LayerKind::Dense { activation: Activation::Relu };

    #[test]
    fn the_stacked_model_reads_like_keras() {
        // Keras' summary of the chapter's stacked encoder and decoder: Dense(128) on 784 inputs
        // holds 784 × 128 + 128 = 100,480 numbers, and so on.
        let expected = vec![
            ("input".to_string(), LayerKind::Input, 784, 0, None),
            ("dense_1".to_string(), RELU, 128, 100_480, None),
            ("dense_2".to_string(), RELU, 64, 8_256, None),
            ("dense_3".to_string(), RELU, 32, 2_080, None),
            ("dense_4".to_string(), RELU, 64, 2_112, None),
            ("dense_5".to_string(), RELU, 128, 8_320, None),
            ("dense_6".to_string(), LayerKind::Dense { activation: Activation::Sigmoid }, 784, 101_136, None),
        ];
        assert_eq!(rows(&Experiment::Stacked.shape()), expected);
    }

    #[test]
    fn tied_decoders_share_the_encoder_kernels() {
        let transpose = |name: &str, activation, output: usize, shares: &str| {
            (name.to_string(), LayerKind::DenseTranspose { activation }, output, output, Some(shares.to_string()))
        };
        let decoder = [
            transpose("dense_transpose_1", Activation::Relu, 64, "dense_3"),
            transpose("dense_transpose_2", Activation::Relu, 128, "dense_2"),
            transpose("dense_transpose_3", Activation::Sigmoid, 784, "dense_1"),
        ];
        let encoder = [
            ("dense_1".to_string(), RELU, 128, 100_480, None),
            ("dense_2".to_string(), RELU, 64, 8_256, None),
            ("dense_3".to_string(), RELU, 32, 2_080, None),
        ];
        let input = ("input".to_string(), LayerKind::Input, 784, 0, None);
        let with = |corruption: Option<(&str, LayerKind)>| {
            let mut all = vec![input.clone()];
            all.extend(corruption.map(|(name, kind)| (name.to_string(), kind, 784, 0, None)));
            all.extend(encoder.clone());
            all.extend(decoder.clone());
            all
        };
        assert_eq!(rows(&Experiment::Tied.shape()), with(None));
        let noise = LayerKind::GaussianNoise { stddev: 0.2 };
        assert_eq!(rows(&Experiment::Denoising.shape()), with(Some(("gaussian_noise", noise))));
        let dropout = LayerKind::Dropout { rate: 0.5 };
        assert_eq!(rows(&Experiment::Dropout.shape()), with(Some(("dropout", dropout))));
    }

    #[test]
    fn totals_are_counted_by_hand() {
        let small = |tied| ModelShape { layer_sizes: vec![10, 7, 3], tied, ..ModelShape::default() };
        let shapes = [Experiment::Stacked.shape(), Experiment::Tied.shape(), small(false), small(true)];
        for shape in shapes {
            // Every kernel (twice unless tied), every layer's bias, both ways.
            let mut expected = 0;
            for pair in shape.layer_sizes.windows(2) {
                let (inputs, outputs) = (pair[0], pair[1]);
                expected += inputs * outputs + outputs + if shape.tied { inputs } else { outputs * inputs + inputs };
            }
            assert_eq!(shape.total_parameters(), expected, "{shape:?}");
        }
        // The chapter's figures: 2 × (784·128 + 128·64 + 64·32) kernels and 1,200 biases;
        // the tied models keep one set of kernels.
        assert_eq!(Experiment::Stacked.shape().total_parameters(), 2 * 110_592 + 1_200);
        assert_eq!(Experiment::Tied.shape().total_parameters(), 110_592 + 1_200);
    }

    #[test]
    fn names_are_unique_identifiers() {
        for experiment in Experiment::ALL {
            let summary = experiment.shape().summary();
            let mut names: Vec<&str> = summary.iter().map(|l| l.name.as_str()).collect();
            assert!(names.iter().all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
            for shared in summary.iter().filter_map(|l| l.shares_kernel_with.as_deref()) {
                assert!(names.contains(&shared), "{shared} names a layer");
            }
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), summary.len(), "{experiment}");
        }
    }

    #[test]
    fn experiments_parse_from_their_names() {
        for experiment in Experiment::ALL {
            assert_eq!(experiment.name().parse::<Experiment>(), Ok(experiment));
            assert_eq!(format!(" {} ", experiment.name().to_uppercase()).parse::<Experiment>(), Ok(experiment));
        }
        assert_eq!("sparse".parse::<Experiment>(), Err(UnknownExperiment("sparse".into())));
    }
}
