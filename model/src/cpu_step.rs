//! A training step in a few passes over memory, for the CPU: burn's flex backend natively, and
//! the page's wasm (SIMD128) in browsers without WebGPU, where most of the chapter's readers
//! train.
//!
//! burn's autodiff step records a graph, allocates a tensor for each of about a hundred ops and
//! walks the graph back; then the optimizer reads every gradient again to update. Here a step is, for
//! the six dense layers: one product each (`gemm`, the crate burn's CPU backend uses: AVX2/FMA
//! natively, SIMD128 in wasm), then one pass that adds the bias and applies the ReLU; one pass
//! over the logits for the loss, its gradient and the rounded accuracy; per hidden layer one
//! product for the gradient at its input and a pass for the ReLU's mask. No weight gradient is
//! ever stored: `gemm` computes `K - lr·xᵀ·g` into the kernel itself, so the SGD update is the
//! weight-gradient product. A tied kernel takes its two products (encoder and decoder) after
//! both layers have used the old weights.
//!
//! The weights live here between steps, in plain vectors; the trainer writes them into its burn
//! model when a run of steps ends. burn's autodiff stays the reference: the tests check the two
//! against each other.

use std::marker::PhantomData;
use std::ops::Range;

use burn::prelude::*;
use protocol::Corruption;
use rand::rngs::SmallRng;
use rand::RngExt;
use rand_distr::StandardNormal;
use wide::f32x8;

use crate::Autoencoder;

/// One dense layer's parameters in host memory: `y = x · K + b`.
struct Layer {
    kernel: Kernel,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

enum Kernel {
    /// `[inputs, outputs]`, row-major.
    Own(Vec<f32>),
    /// A tied decoder layer's: the kernel of encoder layer `index`, read transposed.
    Tied(usize),
}

/// An autoencoder's weights on the host, with the buffers its steps work in.
pub(crate) struct CpuModel {
    /// The encoder's layers, then the decoder's.
    layers: Vec<Layer>,
    /// `activations[l]`: layer `l`'s input; the last entry holds the logits.
    activations: Vec<Vec<f32>>,
    /// `grads[l]`: the loss gradient at layer `l`'s output, before its ReLU.
    grads: Vec<Vec<f32>>,
}

/// The parts of a training step, in order, for the bench's profile.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    Forward,
    Loss,
    Backward,
    Update,
}

/// A batch's loss and rounded accuracy, each summed over its images' means over pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Sums {
    pub loss: f64,
    pub accuracy: f64,
}

impl CpuModel {
    /// `model`'s weights, read from its (CPU) tensors.
    pub(crate) fn of(model: &Autoencoder) -> Self {
        let dense = model.dense_layers();
        let count = dense.len();
        let layers = dense
            .into_iter()
            .enumerate()
            .map(|(index, layer)| {
                let [rows, columns] = layer.kernel.dims();
                let (inputs, outputs) = if layer.transposed { (columns, rows) } else { (rows, columns) };
                let kernel = if layer.transposed { Kernel::Tied(count - 1 - index) } else { Kernel::Own(host(layer.kernel)) };
                Layer { kernel, bias: host(layer.bias), inputs, outputs }
            })
            .collect();
        Self { layers, activations: vec![Vec::new(); count + 1], grads: vec![Vec::new(); count] }
    }

    /// `model` with these weights, as tensors on `device`.
    pub(crate) fn write_to(&self, model: Autoencoder, device: &Device) -> Autoencoder {
        let kernels = self.layers.iter().map(|layer| match &layer.kernel {
            Kernel::Own(values) => Some(tensor(values, [layer.inputs, layer.outputs], device)),
            Kernel::Tied(_) => None,
        });
        let biases = self.layers.iter().map(|layer| tensor(&layer.bias, [layer.outputs], device));
        model.with_dense_parameters(kernels.collect(), biases.collect())
    }

    fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// One SGD step on a batch: `input` is what the model sees (corrupted for the denoising and
    /// dropout models), `target` what it must rebuild, both `[rows, 784]`. Returns the batch's
    /// sums; calls `lap` as each part of the step ends (for the bench's profile).
    pub(crate) fn train_step(&mut self, input: &[f32], target: &[f32], learning_rate: f32, mut lap: impl FnMut(Phase)) -> Sums {
        let rows = input.len() / self.inputs();
        self.forward_all(input, rows);
        lap(Phase::Forward);
        let last = self.layers.len() - 1;
        let pixels = self.inputs();
        let (logits, grad) = (&self.activations[last + 1], &mut self.grads[last]);
        grad.resize(logits.len(), 0.0);
        let sums = loss(logits, target, pixels, Some(grad));
        lap(Phase::Loss);

        let encoder_layers = self.layers.len() / 2;
        for index in (0..self.layers.len()).rev() {
            if index > 0 {
                self.backward_input(index, rows);
                lap(Phase::Backward);
            }
            self.update(index, rows, encoder_layers, -learning_rate);
            lap(Phase::Update);
        }
        sums
    }

    /// The SGD update of layer `index` (`scale` = minus the learning rate), from its input and
    /// the gradient at its output. A tied kernel waits for its encoder layer, which comes last in
    /// the backward order: both layers have then used the old kernel.
    fn update(&mut self, index: usize, rows: usize, encoder_layers: usize, scale: f32) {
        let Self { layers, activations, grads } = self;
        let view = |l: usize, layer: &Layer| (rows_of(&activations[l], rows, layer.inputs), rows_of(&grads[l], rows, layer.outputs));
        let mirror = layers.len() - 1 - index;
        let (x, g) = view(index, &layers[index]);
        let tied_decoder = (index < encoder_layers && matches!(layers[mirror].kernel, Kernel::Tied(_))).then(|| view(mirror, &layers[mirror]));
        if let Kernel::Own(kernel) = &mut layers[index].kernel {
            product(kernel, x.t(), g, true, scale);
            // The decoder used Kᵀ: its gradient `x_dᵀ·g_d` reaches K transposed, `g_dᵀ·x_d`.
            if let Some((x_decoder, g_decoder)) = tied_decoder {
                product(kernel, g_decoder.t(), x_decoder, true, scale);
            }
        }
        add_column_sums(&mut layers[index].bias, &grads[index], scale);
    }

    /// The loss and rounded accuracy of the model on `images` (`[rows, 784]`), no corruption.
    pub(crate) fn evaluate(&mut self, images: &[f32]) -> Sums {
        let mut sums = Sums::default();
        for chunk in images.chunks(EVALUATION_ROWS * self.inputs()) {
            self.forward_all(chunk, chunk.len() / self.inputs());
            let part = loss(&self.activations[self.layers.len()], chunk, self.inputs(), None);
            sums.loss += part.loss;
            sums.accuracy += part.accuracy;
        }
        sums
    }

    /// `values` (rows of layer `layers.start`'s input width) through `layers`: ReLU after each
    /// but the model's last, whose logits come out as probabilities (sigmoid).
    pub(crate) fn forward(&self, values: &[f32], layers: Range<usize>) -> Vec<f32> {
        let (width, outputs) = (self.layers[layers.start].inputs, self.layers[layers.end - 1].outputs);
        let mut out = Vec::with_capacity(values.len() / width * outputs);
        for chunk in values.chunks(EVALUATION_ROWS * width) {
            let rows = chunk.len() / width;
            let mut x = chunk.to_vec();
            for index in layers.clone() {
                let mut y = Vec::new();
                self.dense(index, &x, rows, &mut y);
                x = y;
            }
            if layers.end == self.layers.len() {
                x.iter_mut().for_each(|z| *z = 1.0 / (1.0 + (-*z).exp()));
            }
            out.extend_from_slice(&x);
        }
        out
    }

    /// The layers of the encoder and of the decoder, for [`forward`](Self::forward).
    pub(crate) fn encoder(&self) -> Range<usize> {
        0..self.layers.len() / 2
    }

    pub(crate) fn decoder(&self) -> Range<usize> {
        self.layers.len() / 2..self.layers.len()
    }

    /// Every layer's output from `input`, kept for the backward pass.
    fn forward_all(&mut self, input: &[f32], rows: usize) {
        let mut activations = std::mem::take(&mut self.activations);
        activations[0].clear();
        activations[0].extend_from_slice(input);
        for index in 0..self.layers.len() {
            let (done, next) = activations.split_at_mut(index + 1);
            self.dense(index, &done[index], rows, &mut next[0]);
        }
        self.activations = activations;
    }

    /// `out = x · K + b` for layer `index`, through a ReLU unless it is the last.
    fn dense(&self, index: usize, x: &[f32], rows: usize, out: &mut Vec<f32>) {
        let layer = &self.layers[index];
        out.resize(rows * layer.outputs, 0.0);
        product(out, rows_of(x, rows, layer.inputs), self.kernel(index), false, 1.0);
        let relu = index + 1 < self.layers.len();
        for row in out.chunks_exact_mut(layer.outputs) {
            for (z, b) in row.iter_mut().zip(&layer.bias) {
                *z += b;
                if relu {
                    *z = z.max(0.0);
                }
            }
        }
    }

    /// Layer `index`'s kernel as `[inputs, outputs]`.
    fn kernel(&self, index: usize) -> View<'_> {
        let layer = &self.layers[index];
        match &layer.kernel {
            Kernel::Own(values) => rows_of(values, layer.inputs, layer.outputs),
            Kernel::Tied(encoder) => match &self.layers[*encoder].kernel {
                Kernel::Own(values) => rows_of(values, layer.outputs, layer.inputs).t(),
                Kernel::Tied(_) => unreachable!("a tied layer reads an encoder layer's own kernel"),
            },
        }
    }

    /// The gradient at layer `index`'s output into `grads[index - 1]`: the gradient at its
    /// input, `g · Kᵀ`, through the mask of the ReLU that made that input.
    fn backward_input(&mut self, index: usize, rows: usize) {
        let mut grads = std::mem::take(&mut self.grads);
        let (below, above) = grads.split_at_mut(index);
        let layer = &self.layers[index];
        let grad_in = &mut below[index - 1];
        grad_in.resize(rows * layer.inputs, 0.0);
        product(grad_in, rows_of(&above[0], rows, layer.outputs), self.kernel(index).t(), false, 1.0);
        for (g, x) in grad_in.iter_mut().zip(&self.activations[index]) {
            if *x <= 0.0 {
                *g = 0.0;
            }
        }
        self.grads = grads;
    }
}

/// Rows per forward pass outside training: enough for the products to run at speed, few enough
/// that the activations stay in cache.
const EVALUATION_ROWS: usize = 256;

/// A matrix in memory: its first element, its shape and the steps between rows and columns.
#[derive(Clone, Copy)]
struct View<'a> {
    ptr: *const f32,
    rows: usize,
    columns: usize,
    row_stride: isize,
    column_stride: isize,
    values: PhantomData<&'a [f32]>,
}

/// `values` as a row-major `[rows, columns]` matrix.
fn rows_of(values: &[f32], rows: usize, columns: usize) -> View<'_> {
    assert!(values.len() >= rows * columns, "a matrix inside its buffer");
    View { ptr: values.as_ptr(), rows, columns, row_stride: columns as isize, column_stride: 1, values: PhantomData }
}

impl View<'_> {
    fn t(self) -> Self {
        Self { rows: self.columns, columns: self.rows, row_stride: self.column_stride, column_stride: self.row_stride, ..self }
    }
}

/// `out = a · b`, or `out += scale · a · b` when `accumulate`; `out` is row-major.
fn product(out: &mut [f32], a: View, b: View, accumulate: bool, scale: f32) {
    assert!(a.columns == b.rows && out.len() == a.rows * b.columns, "matching shapes");
    // SAFETY: `a` and `b` come from `rows_of`, which checked that they lie inside their
    // buffers (a transposed view covers the same elements); `out` is checked above and is
    // borrowed mutably, so it overlaps neither.
    unsafe {
        gemm::gemm(
            a.rows,
            b.columns,
            a.columns,
            out.as_mut_ptr(),
            1,
            b.columns as isize,
            accumulate,
            a.ptr,
            a.column_stride,
            a.row_stride,
            b.ptr,
            b.column_stride,
            b.row_stride,
            1.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `bias += scale · (the column sums of `grad`)`.
fn add_column_sums(bias: &mut [f32], grad: &[f32], scale: f32) {
    let mut sums = vec![0.0f32; bias.len()];
    for row in grad.chunks_exact(bias.len()) {
        sums.iter_mut().zip(row).for_each(|(s, g)| *s += g);
    }
    bias.iter_mut().zip(sums).for_each(|(b, s)| *b += scale * s);
}

/// Binary cross-entropy from logits `z` against targets `y` and the rounded accuracy, each
/// image's means over its `pixels` summed; with `grad`, also the gradient of the batch's mean
/// loss, `(σ(z) - y) / values`. Per pixel the loss is `max(z, 0) - z·y + ln(1 + e^-|z|)` (never
/// the log of 0), a pixel is right when `y > 0.5` and `z > 0` agree (see
/// [`crate::loss::rounded_accuracy_of_logits`]). One `e^-|z|` and one division serve the loss
/// and the sigmoid; `wide`'s vector `exp` and `ln` keep the pass at SIMD speed.
fn loss(logits: &[f32], targets: &[f32], pixels: usize, mut grad: Option<&mut Vec<f32>>) -> Sums {
    let scale = f32x8::splat(1.0 / logits.len() as f32);
    let mut sums = Sums::default();
    for (row, (z_row, y_row)) in logits.chunks_exact(pixels).zip(targets.chunks_exact(pixels)).enumerate() {
        let (mut loss, mut right) = (f32x8::ZERO, f32x8::ZERO);
        let mut add = |start: usize, lanes: usize, live: f32x8| {
            let z = lanes_of(&z_row[start..start + lanes]);
            let y = lanes_of(&y_row[start..start + lanes]);
            let e = (-z.abs()).exp();
            let one_plus_e = f32x8::ONE + e;
            loss += live * (z.max(f32x8::ZERO) - z * y + one_plus_e.ln());
            let differ = y.simd_gt(f32x8::splat(0.5)) ^ z.simd_gt(f32x8::ZERO);
            right += live * differ.select(f32x8::ZERO, f32x8::ONE);
            if let Some(grad) = grad.as_deref_mut() {
                let r = f32x8::ONE / one_plus_e;
                let sigmoid = z.simd_ge(f32x8::ZERO).select(r, e * r);
                let g = ((sigmoid - y) * scale).to_array();
                let at = row * pixels + start;
                grad[at..at + lanes].copy_from_slice(&g[..lanes]);
            }
        };
        let whole = pixels / 8 * 8;
        for start in (0..whole).step_by(8) {
            add(start, 8, f32x8::ONE);
        }
        if whole < pixels {
            // The lanes past the row's end hold z = y = 0: they must not count.
            let lanes = pixels - whole;
            add(whole, lanes, lanes_of(&[1.0; 8][..lanes]));
        }
        sums.loss += f64::from(loss.reduce_add()) / pixels as f64;
        sums.accuracy += f64::from(right.reduce_add()) / pixels as f64;
    }
    sums
}

/// Up to eight values as a vector, zeros after them.
#[inline(always)]
fn lanes_of(values: &[f32]) -> f32x8 {
    match <[f32; 8]>::try_from(values) {
        Ok(full) => f32x8::from(full),
        Err(_) => {
            let mut lanes = [0.0; 8];
            lanes[..values.len()].copy_from_slice(values);
            f32x8::from(lanes)
        }
    }
}

/// `pixels` as the model sees them in training: Gaussian noise added, then dropout with inverted
/// scaling, as [`crate::autoencoder::corrupt`] does with burn's ops. Drawn here from a small,
/// fast generator (Ziggurat normals): burn's CPU backend's draws cost most of a step's time.
pub(crate) fn corrupt(pixels: &[f32], corruption: Corruption, rng: &mut SmallRng) -> Vec<f32> {
    let stddev = corruption.noise_stddev as f32;
    let keep = 1.0 - corruption.dropout_rate as f32;
    pixels
        .iter()
        .map(|&pixel| {
            let noisy = if stddev > 0.0 { pixel + stddev * rng.sample::<f32, _>(StandardNormal) } else { pixel };
            // Without a branch on the draw: half the pixels would mispredict it.
            let kept = if keep < 1.0 { f32::from(u8::from(rng.random::<f32>() < keep)) / keep } else { 1.0 };
            noisy * kept
        })
        .collect()
}

/// Whether `device` runs this step: a device of burn's flex (CPU) backend.
pub(crate) fn supports(device: &Device) -> bool {
    matches!(device.clone().inner().as_dispatch(), burn::backend::DispatchDevice::Flex(_))
}

/// A CPU tensor's values.
pub(crate) fn host<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    // The flex backend's tensors are in host memory: the read is immediate, also in wasm.
    tensor.into_data().try_into_vec().expect("an f32 model")
}

fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_loss_pass_matches_burns_loss_and_metric_on_rows_of_any_width() {
        // 13 pixels per row: one whole 8-lane vector and a short one.
        let (rows, pixels) = (3, 13);
        // No logit is exactly 0, where burn's autodiff takes a subgradient of `max(z, 0)` and
        // `|z|` (1 - y) instead of the derivative, σ(0) - y.
        let logits: Vec<f32> = (0..rows * pixels).map(|i| ((i as f32 + 0.5) * 0.77).sin() * 6.0).collect();
        let targets: Vec<f32> = (0..rows * pixels).map(|i| (i * 37 % 256) as f32 / 255.0).collect();
        let mut grad = Vec::new();
        grad.resize(logits.len(), 0.0);
        let sums = loss(&logits, &targets, pixels, Some(&mut grad));

        let device = Device::flex().autodiff();
        let z = Tensor::<2>::from_data(TensorData::new(logits.clone(), [rows, pixels]), &device).require_grad();
        let y = Tensor::<2>::from_data(TensorData::new(targets.clone(), [rows, pixels]), &device);
        let expected = crate::loss::binary_cross_entropy_with_logits(z.clone(), y.clone());
        let accuracy: f32 = crate::loss::rounded_accuracy_of_logits(y.inner(), z.clone().inner()).into_scalar();
        let expected_grad = host(z.grad(&expected.backward()).expect("a gradient"));
        let expected: f32 = expected.inner().into_scalar();
        assert!((sums.loss / rows as f64 - f64::from(expected)).abs() < 1e-6, "{sums:?} against {expected}");
        assert!((sums.accuracy / rows as f64 - f64::from(accuracy)).abs() < 1e-6, "{sums:?} against {accuracy}");
        assert!(grad.iter().zip(&expected_grad).all(|(a, b)| (a - b).abs() < 1e-7), "{grad:?} against {expected_grad:?}");
    }

    #[test]
    fn corruption_draws_the_noise_and_masks_it_trains_with() {
        let mut rng = SmallRng::seed_from_u64(1);
        let pixels = vec![0.25f32; 100_000];
        let noisy = corrupt(&pixels, Corruption { noise_stddev: 0.2, dropout_rate: 0.0 }, &mut rng);
        let n = noisy.len() as f32;
        let mean = noisy.iter().map(|v| v - 0.25).sum::<f32>() / n;
        let std = (noisy.iter().map(|v| (v - 0.25 - mean).powi(2)).sum::<f32>() / n).sqrt();
        assert!(mean.abs() < 0.005 && (std - 0.2).abs() < 0.005, "mean {mean} std {std}");

        let masked = corrupt(&pixels, Corruption { noise_stddev: 0.0, dropout_rate: 0.5 }, &mut rng);
        let dropped = masked.iter().filter(|&&v| v == 0.0).count() as f32 / n;
        assert!((dropped - 0.5).abs() < 0.01, "dropped {dropped}");
        assert!(masked.iter().all(|&v| v == 0.0 || (v - 0.5).abs() < 1e-6), "survivors scaled by 1 / (1 - rate)");

        // The same seed draws the same corruption.
        let again = corrupt(&pixels, Corruption { noise_stddev: 0.2, dropout_rate: 0.0 }, &mut SmallRng::seed_from_u64(1));
        assert_eq!(again, noisy);
    }
}
