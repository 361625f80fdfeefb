//! The model as a table of layers, like Keras' `model.summary()` for the chapter's models: what
//! each layer is, how many units it outputs per image (the batch dimension is implicit) and how
//! many trainable numbers it holds. Worked out from the [`AutoencoderConfig`] alone, so a page
//! can show it before any model exists.

use crate::AutoencoderConfig;

/// One row of the table.
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

impl AutoencoderConfig {
    /// The layers from input to reconstruction: the input, its corruption (noise, then
    /// dropout, as [`crate::Autoencoder::corrupt`] applies them), the encoder's dense layers,
    /// then the mirrored decoder's, ReLU throughout but a sigmoid at the end.
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
    use crate::Experiment;
    use burn::prelude::*;

    fn rows(config: &AutoencoderConfig) -> Vec<(String, LayerKind, usize, usize, Option<String>)> {
        config.summary().into_iter().map(|l| (l.name, l.kind, l.output, l.parameters, l.shares_kernel_with)).collect()
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
        assert_eq!(rows(&Experiment::Stacked.model_config()), expected);
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
        assert_eq!(rows(&Experiment::Tied.model_config()), with(None));
        let noise = LayerKind::GaussianNoise { stddev: 0.2 };
        assert_eq!(rows(&Experiment::Denoising.model_config()), with(Some(("gaussian_noise", noise))));
        let dropout = LayerKind::Dropout { rate: 0.5 };
        assert_eq!(rows(&Experiment::Dropout.model_config()), with(Some(("dropout", dropout))));
    }

    #[test]
    fn totals_equal_the_parameters_of_a_built_model() {
        let device = Device::flex();
        let configs = [
            Experiment::Stacked.model_config(),
            Experiment::Tied.model_config(),
            Experiment::Denoising.model_config(),
            Experiment::Dropout.model_config(),
            AutoencoderConfig::new().with_layer_sizes(vec![10, 7, 3]),
            AutoencoderConfig::new()
                .with_layer_sizes(vec![10, 7, 3])
                .with_tied(true)
                .with_noise_stddev(0.1)
                .with_dropout_rate(0.3),
            AutoencoderConfig::new().with_layer_sizes(vec![5, 2]),
        ];
        for config in configs {
            // Counted by hand: every kernel (twice unless tied), every layer's bias, both ways.
            let sizes = &config.layer_sizes;
            let mut expected = 0;
            for pair in sizes.windows(2) {
                let (inputs, outputs) = (pair[0], pair[1]);
                let encoder = inputs * outputs + outputs;
                let decoder = if config.tied { inputs } else { outputs * inputs + inputs };
                expected += encoder + decoder;
            }
            assert_eq!(config.total_parameters(), expected, "{sizes:?} tied {}", config.tied);
            assert_eq!(config.init(&device).num_params(), expected, "{sizes:?} tied {}", config.tied);
            assert_eq!(config.parameter_count(), expected);
        }
        // The chapter's figures: 2 × (784·128 + 128·64 + 64·32) kernels and 1,200 biases;
        // the tied models keep one set of kernels.
        assert_eq!(Experiment::Stacked.model_config().total_parameters(), 2 * 110_592 + 1_200);
        assert_eq!(Experiment::Tied.model_config().total_parameters(), 110_592 + 1_200);
    }

    #[test]
    fn names_are_unique_identifiers() {
        for experiment in Experiment::ALL {
            let summary = experiment.model_config().summary();
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
}
