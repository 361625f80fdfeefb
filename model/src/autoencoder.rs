//! The chapter's stacked autoencoder, as one configurable model: the four experiments (stacked,
//! tied, denoising, dropout) are four [`AutoencoderConfig`]s, see [`crate::Experiment`].

use burn::nn::{Dropout, DropoutConfig, GaussianNoise, GaussianNoiseConfig, Initializer, Linear, LinearConfig};
use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::module::linear;

#[derive(Config, Debug)]
pub struct AutoencoderConfig {
    /// Input size, then each encoder layer's width; the decoder mirrors them.
    #[config(default = "protocol::LAYER_SIZES.to_vec()")]
    pub layer_sizes: Vec<usize>,
    /// Decoder layers reuse the transposed encoder kernels (each keeps its own bias).
    #[config(default = false)]
    pub tied: bool,
    /// Standard deviation of Gaussian noise added to the input in training (0: none).
    #[config(default = 0.0)]
    pub noise_stddev: f64,
    /// Share of input pixels zeroed in training, survivors scaled by 1/(1-rate) (0: none).
    #[config(default = 0.0)]
    pub dropout_rate: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("an autoencoder needs an input size and at least one encoder layer, all above 0")]
    LayerSizes,
    #[error("noise stddev must be a finite number from 0 to 10, got {0}")]
    NoiseStddev(f64),
    #[error("dropout rate must be at least 0 and below 1, got {0}")]
    DropoutRate(f64),
}

/// Keras' `Dense` defaults, which the chapter relies on: Glorot-uniform kernels, zero biases.
const KERNEL_INIT: Initializer = Initializer::XavierUniform { gain: 1.0 };

#[derive(Module, Debug)]
pub struct Autoencoder {
    pub(crate) encoder: Vec<Linear>,
    pub(crate) decoder: Vec<DecoderLayer>,
    noise: Option<GaussianNoise>,
    dropout: Option<Dropout>,
}

/// One decoder layer: its own kernel, or (tied) the transposed kernel of its mirror encoder layer.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub(crate) kernel: Option<Param<Tensor<2>>>,
    pub(crate) bias: Param<Tensor<1>>,
}

impl AutoencoderConfig {
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.layer_sizes.len() < 2 || self.layer_sizes.contains(&0) {
            return Err(ConfigError::LayerSizes);
        }
        if !(0.0..=10.0).contains(&self.noise_stddev) {
            return Err(ConfigError::NoiseStddev(self.noise_stddev));
        }
        if !(0.0..1.0).contains(&self.dropout_rate) {
            return Err(ConfigError::DropoutRate(self.dropout_rate));
        }
        Ok(())
    }

    /// The size of the codes: the last encoder layer's width.
    pub fn code_size(&self) -> usize {
        self.layer_sizes.last().copied().unwrap_or(0)
    }

    /// Trainable numbers: each encoder layer's kernel and bias, each decoder layer's bias, and
    /// the decoder's kernels unless they are tied (so tied models have about half). The same as
    /// [`total_parameters`](Self::total_parameters), the sum of the [`summary`](Self::summary).
    pub fn parameter_count(&self) -> usize {
        self.total_parameters()
    }

    /// Builds the model on `device`. Call [`check`](Self::check) first: bad sizes panic here.
    pub fn init(&self, device: &Device) -> Autoencoder {
        let sizes = &self.layer_sizes;
        let encoder = sizes.windows(2).map(|w| dense(w[0], w[1], device)).collect();
        let decoder = sizes
            .windows(2)
            .rev()
            .map(|w| {
                let (d_input, d_output) = (w[1], w[0]);
                DecoderLayer {
                    kernel: (!self.tied).then(|| KERNEL_INIT.init_with([d_input, d_output], Some(d_input), Some(d_output), device)),
                    bias: Initializer::Zeros.init([d_output], device),
                }
            })
            .collect();
        Autoencoder {
            encoder,
            decoder,
            noise: (self.noise_stddev > 0.0).then(|| GaussianNoiseConfig::new(self.noise_stddev).init()),
            dropout: (self.dropout_rate > 0.0).then(|| DropoutConfig::new(self.dropout_rate).init()),
        }
    }
}

/// `images` with Gaussian noise added, then dropout with inverted scaling, at the given levels:
/// what [`Autoencoder::corrupt`] does in training, at any level and outside training.
pub(crate) fn corrupt(images: Tensor<2>, corruption: protocol::Corruption) -> Tensor<2> {
    let (shape, device) = (images.shape(), images.device());
    let mut seen = images;
    if corruption.noise_stddev > 0.0 {
        seen = seen + Tensor::random(shape.clone(), Distribution::Normal(0.0, corruption.noise_stddev), &device);
    }
    if corruption.dropout_rate > 0.0 {
        let keep = 1.0 - corruption.dropout_rate;
        seen = seen * Tensor::random(shape, Distribution::Bernoulli(keep), &device).div_scalar(keep);
    }
    seen
}

fn dense(d_input: usize, d_output: usize, device: &Device) -> Linear {
    let mut layer = LinearConfig::new(d_input, d_output).with_initializer(KERNEL_INIT).init(device);
    layer.bias = Some(Initializer::Zeros.init([d_output], device));
    layer
}

impl Autoencoder {
    /// Images `[batch, 784]` in [0, 1] to codes `[batch, 32]`. Never corrupts its input.
    pub fn encode(&self, images: Tensor<2>) -> Tensor<2> {
        self.encoder.iter().fold(images, |x, layer| relu(layer.forward(x)))
    }

    /// Codes to reconstructed images, as probabilities in [0, 1].
    pub fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        sigmoid(self.decode_logits(codes))
    }

    /// Reconstructions of `images`, corrupted first when training (see [`corrupt`](Self::corrupt)).
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        sigmoid(self.forward_logits(images))
    }

    /// [`forward`](Self::forward) before the final sigmoid: what the loss is computed from.
    pub fn forward_logits(&self, images: Tensor<2>) -> Tensor<2> {
        self.decode_logits(self.encode(self.corrupt(images)))
    }

    /// The input as the model sees it: with Gaussian noise or dropout when training (on an
    /// autodiff device, as burn's layers decide), unchanged otherwise.
    pub fn corrupt(&self, images: Tensor<2>) -> Tensor<2> {
        let images = match &self.noise {
            Some(noise) => noise.forward(images),
            None => images,
        };
        match &self.dropout {
            Some(dropout) => dropout.forward(images),
            None => images,
        }
    }

    fn decode_logits(&self, codes: Tensor<2>) -> Tensor<2> {
        let last = self.decoder.len() - 1;
        self.decoder.iter().enumerate().fold(codes, |x, (i, layer)| {
            let kernel = match &layer.kernel {
                Some(kernel) => kernel.val(),
                None => self.encoder[last - i].weight.val().transpose(),
            };
            let z = linear(x, kernel, Some(layer.bias.val()));
            if i == last { z } else { relu(z) }
        })
    }

    /// Whether the decoder reuses the encoder's kernels.
    pub fn is_tied(&self) -> bool {
        self.decoder.iter().all(|layer| layer.kernel.is_none())
    }

    #[cfg_attr(not(feature = "wgpu"), allow(dead_code))]
    pub(crate) fn encoder_len(&self) -> usize {
        self.encoder.len()
    }

    /// The dense layers from input to logits, as `x · kernel + bias` (ReLU between them): the
    /// encoder's, then the decoder's, whose tied layers read their mirror encoder layer's kernel
    /// transposed.
    pub(crate) fn dense_layers(&self) -> Vec<DenseLayer> {
        let last = self.encoder.len() - 1;
        let encoder = self.encoder.iter().map(|layer| DenseLayer {
            kernel: layer.weight.val(),
            transposed: false,
            bias: layer.bias.as_ref().expect("encoder layers have biases").val(),
        });
        let decoder = self.decoder.iter().enumerate().map(|(i, layer)| DenseLayer {
            kernel: layer.kernel.as_ref().map_or_else(|| self.encoder[last - i].weight.val(), Param::val),
            transposed: layer.kernel.is_none(),
            bias: layer.bias.val(),
        });
        encoder.chain(decoder).collect()
    }

    /// This model with new parameters, in [`dense_layers`](Self::dense_layers)' order: a kernel
    /// per layer (`None` for tied decoder layers) and a bias per layer.
    pub(crate) fn with_dense_parameters(mut self, kernels: Vec<Option<Tensor<2>>>, biases: Vec<Tensor<1>>) -> Self {
        let mut kernels = kernels.into_iter();
        let mut biases = biases.into_iter();
        for layer in &mut self.encoder {
            if let Some(Some(kernel)) = kernels.next() {
                layer.weight = layer.weight.clone().map(|_| kernel);
            }
            if let (Some(bias), Some(param)) = (biases.next(), layer.bias.as_mut()) {
                *param = param.clone().map(|_| bias);
            }
        }
        for layer in &mut self.decoder {
            if let (Some(Some(kernel)), Some(param)) = (kernels.next(), layer.kernel.as_mut()) {
                *param = param.clone().map(|_| kernel);
            }
            if let Some(bias) = biases.next() {
                layer.bias = layer.bias.clone().map(|_| bias);
            }
        }
        self
    }
}

/// One dense layer's parameters: `y = x · kernel + bias`, with the kernel stored `[inputs,
/// outputs]`, or `[outputs, inputs]` when `transposed` (a tied decoder layer).
pub(crate) struct DenseLayer {
    pub kernel: Tensor<2>,
    pub transposed: bool,
    pub bias: Tensor<1>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Experiment;

    fn images(device: &Device) -> Tensor<2> {
        Tensor::random([64, 784], Distribution::Uniform(0.0, 1.0), device)
    }

    #[test]
    fn parameter_counts_match_keras() {
        let device = Device::flex();
        let count = |e: Experiment| {
            let config = AutoencoderConfig::of(e);
            let count = config.init(&device).num_params();
            assert_eq!(config.parameter_count(), count, "{e}");
            count
        };
        assert_eq!(count(Experiment::Stacked), 222_384);
        assert_eq!(count(Experiment::Tied), 111_792);
        assert_eq!(count(Experiment::Denoising), 111_792);
        assert_eq!(count(Experiment::Dropout), 111_792);
    }

    #[test]
    fn shapes_follow_the_layer_sizes() {
        let device = Device::flex();
        let model = AutoencoderConfig::of(Experiment::Stacked).init(&device);
        let codes = model.encode(images(&device));
        assert_eq!(codes.dims(), [64, 32]);
        assert_eq!(model.decode(codes).dims(), [64, 784]);
    }

    #[test]
    fn kernels_are_glorot_uniform_and_biases_zero() {
        let device = Device::flex();
        let model = AutoencoderConfig::of(Experiment::Stacked).init(&device);
        let limit = (6.0f32 / (784.0 + 128.0)).sqrt();
        let kernel: Vec<f32> = model.encoder[0].weight.val().into_data().try_to_vec().unwrap();
        assert!(kernel.iter().all(|w| w.abs() <= limit));
        // A uniform spread, not a constant: its max is close to the limit.
        assert!(kernel.iter().fold(0.0f32, |m, w| m.max(w.abs())) > 0.99 * limit);
        let bias: Vec<f32> = model.decoder[2].bias.val().into_data().try_to_vec().unwrap();
        assert!(bias.iter().all(|&b| b == 0.0));
    }

    /// The gradient of the first encoder kernel, from a loss that only goes through the decoder.
    fn decoder_gradient_on_first_encoder_kernel(experiment: Experiment) -> Option<f32> {
        let device = Device::flex().autodiff();
        let model = AutoencoderConfig::of(experiment).init(&device);
        let codes = Tensor::<2>::ones([4, 32], &device);
        let grads = model.decode(codes).sum().backward();
        model.encoder[0].weight.grad(&grads).map(|g| g.abs().sum().into_scalar::<f32>())
    }

    #[test]
    fn the_tied_decoder_uses_the_encoder_kernel() {
        let tied = decoder_gradient_on_first_encoder_kernel(Experiment::Tied);
        assert!(tied.is_some_and(|g| g > 0.0), "tied: {tied:?}");
        let stacked = decoder_gradient_on_first_encoder_kernel(Experiment::Stacked);
        assert!(stacked.is_none_or(|g| g == 0.0), "stacked: {stacked:?}");
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec().unwrap()
    }

    #[test]
    fn noise_is_added_in_training_only() {
        let device = Device::flex().autodiff();
        let model = AutoencoderConfig::of(Experiment::Denoising).init(&device);
        let x = Tensor::<2>::full([100, 784], 0.5, &device);
        let noise: Vec<f32> = values(model.corrupt(x.clone()) - x.clone());
        let n = noise.len() as f32;
        let mean = noise.iter().sum::<f32>() / n;
        let std = (noise.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
        assert!(mean.abs() < 0.005 && (std - 0.2).abs() < 0.005, "mean {mean} std {std}");

        let inference = model.valid();
        let x = x.inner();
        assert_eq!(values(inference.corrupt(x.clone())), values(x.clone()));
        assert_eq!(values(inference.forward(x.clone())), values(inference.forward(x)));
    }

    #[test]
    fn dropout_masks_in_training_only_with_inverted_scaling() {
        let device = Device::flex().autodiff();
        let model = AutoencoderConfig::of(Experiment::Dropout).init(&device);
        let x = Tensor::<2>::full([100, 784], 0.25, &device);
        let corrupted = values(model.corrupt(x.clone()));
        let dropped = corrupted.iter().filter(|&&v| v == 0.0).count() as f32 / corrupted.len() as f32;
        assert!((dropped - 0.5).abs() < 0.01, "dropped {dropped}");
        assert!(corrupted.iter().all(|&v| v == 0.0 || (v - 0.5).abs() < 1e-6));

        let inference = model.valid();
        let x = x.inner();
        assert_eq!(values(inference.corrupt(x.clone())), values(x));
    }

    #[test]
    fn corruption_at_any_level_outside_training() {
        let device = Device::flex();
        let x = Tensor::<2>::full([100, 784], 0.25, &device);
        let level = |noise_stddev, dropout_rate| values(corrupt(x.clone(), protocol::Corruption { noise_stddev, dropout_rate }));
        assert_eq!(level(0.0, 0.0), values(x.clone()));
        let noisy = level(0.5, 0.0);
        let std = (noisy.iter().map(|v| (v - 0.25).powi(2)).sum::<f32>() / noisy.len() as f32).sqrt();
        assert!((std - 0.5).abs() < 0.01, "std {std}");
        let masked = level(0.0, 0.75);
        let dropped = masked.iter().filter(|&&v| v == 0.0).count() as f32 / masked.len() as f32;
        assert!((dropped - 0.75).abs() < 0.01, "dropped {dropped}");
        assert!(masked.iter().all(|&v| v == 0.0 || (v - 1.0).abs() < 1e-5));
    }

    #[test]
    fn models_without_corruption_never_corrupt() {
        let device = Device::flex().autodiff();
        let model = AutoencoderConfig::of(Experiment::Tied).init(&device);
        let x = images(&device);
        assert_eq!(values(model.corrupt(x.clone())), values(x));
    }

    #[test]
    fn bad_configs_are_rejected_before_init() {
        let config = AutoencoderConfig::new();
        assert_eq!(config.clone().with_layer_sizes(vec![784]).check(), Err(ConfigError::LayerSizes));
        assert!(matches!(config.clone().with_noise_stddev(f64::NAN).check(), Err(ConfigError::NoiseStddev(_))));
        assert_eq!(config.clone().with_dropout_rate(1.0).check(), Err(ConfigError::DropoutRate(1.0)));
        assert!(config.check().is_ok());
    }
}
