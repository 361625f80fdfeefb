//! The model as a table of layers (Keras' `model.summary()`): worked out by the protocol crate
//! from the model's [`ModelShape`], so the page can show it without burn; here it is checked
//! against models burn builds.

use protocol::{LayerSummary, ModelShape};

use crate::{AutoencoderConfig, Experiment};

impl AutoencoderConfig {
    /// The model as the chapter builds it for `experiment`.
    pub fn of(experiment: Experiment) -> Self {
        experiment.shape().into()
    }

    /// The same model without burn: what the page describes and the engine is sent.
    pub fn shape(&self) -> ModelShape {
        let Self { layer_sizes, tied, noise_stddev, dropout_rate } = self.clone();
        ModelShape { layer_sizes, tied, noise_stddev, dropout_rate }
    }

    /// The layers from input to reconstruction, as [`ModelShape::summary`] lists them.
    pub fn summary(&self) -> Vec<LayerSummary> {
        self.shape().summary()
    }

    /// Trainable numbers: each encoder layer's kernel and bias, each decoder layer's bias, and
    /// the decoder's kernels unless they are tied (so tied models have about half).
    pub fn total_parameters(&self) -> usize {
        self.shape().total_parameters()
    }
}

impl From<ModelShape> for AutoencoderConfig {
    fn from(shape: ModelShape) -> Self {
        let ModelShape { layer_sizes, tied, noise_stddev, dropout_rate } = shape;
        Self { layer_sizes, tied, noise_stddev, dropout_rate }
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::*;

    #[test]
    fn totals_equal_the_parameters_of_a_built_model() {
        let device = Device::flex();
        let configs = [
            AutoencoderConfig::of(Experiment::Stacked),
            AutoencoderConfig::of(Experiment::Tied),
            AutoencoderConfig::of(Experiment::Denoising),
            AutoencoderConfig::of(Experiment::Dropout),
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
    }

    #[test]
    fn a_config_and_its_shape_are_the_same_model() {
        for experiment in Experiment::ALL {
            let config = AutoencoderConfig::of(experiment);
            assert_eq!(config.shape(), experiment.shape());
            assert_eq!(AutoencoderConfig::from(config.shape()).shape(), config.shape());
        }
        // burn's defaults are the chapter's stacked model.
        assert_eq!(AutoencoderConfig::new().shape(), Experiment::Stacked.shape());
    }
}
