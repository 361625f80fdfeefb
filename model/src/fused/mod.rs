//! A training step of few kernel launches, for burn's wgpu backend (WebGPU in the browser,
//! Vulkan or Metal natively).
//!
//! On a GPU this small model's arithmetic takes microseconds; a step costs what its kernel
//! launches cost. burn's autodiff path launches about a hundred (each ReLU alone is two,
//! forward and backward; the SGD update two per parameter). Here a step is, for the six dense
//! layers: one fused `x·K + b (+ReLU)` each; one loss kernel that writes the gradient of the
//! binary cross-entropy from the logits and adds the batch's loss and rounded accuracy to the
//! epoch's running sums; one kernel per hidden layer for the gradient of its input (ReLU mask
//! fused in); and one kernel per kernel matrix that applies the SGD update of it and its bias
//! (a tied pair in one). Weights are updated into new buffers: burn's tensors are values, and
//! the trainer keeps the last epoch's weights to fall back on.
//!
//! The training images live on the device (uploaded once, `u8` pixels packed in `u32`); each
//! epoch uploads its shuffled order once, and a kernel gathers each batch from it.
//!
//! The same maths as burn's autodiff path on the CPU, which stays the reference: the tests
//! check the two against each other.

mod kernels;

use burn::backend::Cube;
use burn::prelude::*;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn::tensor::DType;
use cubecl::prelude::{BufferArg, CubeCount, CubeDim};
use cubecl::server::Handle;

use crate::Autoencoder;
use crate::autoencoder::DenseLayer;
use crate::data::{IMAGE_PIXELS, LabeledImages};

/// Whether `device` runs the fused kernels: a device of burn's CubeCL backend.
pub(crate) fn supports(device: &Device) -> bool {
    matches!(device.clone().inner().as_dispatch(), burn::backend::DispatchDevice::Cube(_))
}

/// Units per side of the products' cubes (8 x 8, each unit a block of outputs; 4 x 4 cubes
/// were slower in Chromium on SwiftShader: 312 against 268 ms per batch-32 step), then units per
/// cube of the per-image loss kernel (one unit per image) and of the gather.
const UNITS: u32 = 8;
const LOSS_UNITS: u32 = 64;
const GATHER_UNITS: u32 = 256;
const BIAS_UNITS: u32 = 64;

fn cube_tensor<const D: usize>(tensor: Tensor<D>) -> CubeTensor {
    let tensor = tensor.inner().try_into_primitive::<Cube>().expect("the fused step runs on the CubeCL backend only");
    into_contiguous(tensor)
}

fn burn_tensor<const D: usize>(tensor: CubeTensor) -> Tensor<D> {
    Tensor::from_primitive::<Cube>(tensor)
}

/// A new `f32` tensor of `shape` on `like`'s device, contents undefined.
fn empty(like: &CubeTensor, shape: &[usize]) -> CubeTensor {
    Gpu { client: like.client.clone(), device: like.device.clone() }.empty(shape)
}

/// The CubeCL client and device behind a burn device.
#[derive(Clone)]
struct Gpu {
    client: cubecl::client::Client,
    device: burn_cubecl::CubeDevice,
}

impl Gpu {
    fn of(device: &Device) -> Self {
        match device.clone().inner().as_dispatch() {
            burn::backend::DispatchDevice::Cube(device) => Self { client: device.client(), device: device.clone() },
            _ => unreachable!("the fused step runs on the CubeCL backend only"),
        }
    }

    /// A new `f32` tensor of `shape`, contents undefined.
    fn empty(&self, shape: &[usize]) -> CubeTensor {
        let handle = self.client.empty(shape.iter().product::<usize>() * size_of::<f32>());
        CubeTensor::new_contiguous(self.client.clone(), self.device.clone(), shape.to_vec().into(), handle, DType::F32)
    }
}

fn arg(tensor: &CubeTensor) -> BufferArg {
    tensor.clone().into_buffer_arg()
}

/// Cubes for a product of `rows x columns` outputs, `BLOCK x BLOCK` per unit.
fn grid(columns: usize, rows: usize) -> CubeCount {
    let cubes = |n: usize| n.div_ceil(kernels::BLOCK).div_ceil(UNITS as usize) as u32;
    CubeCount::Static(cubes(columns), cubes(rows), 1)
}

/// One dense layer's parameters as the kernels read them.
struct Layer {
    kernel: CubeTensor,
    transposed: bool,
    bias: CubeTensor,
    inputs: usize,
    outputs: usize,
}

impl Layer {
    fn of(layer: DenseLayer) -> Self {
        let [rows, columns] = layer.kernel.dims();
        let (inputs, outputs) = if layer.transposed { (columns, rows) } else { (rows, columns) };
        Self { kernel: cube_tensor(layer.kernel), transposed: layer.transposed, bias: cube_tensor(layer.bias), inputs, outputs }
    }

    /// `x · K + b`, through a ReLU when `relu`.
    fn forward(&self, x: &CubeTensor, relu: bool) -> CubeTensor {
        let rows = x.meta.shape()[0];
        let out = empty(x, &[rows, self.outputs]);
        kernels::dense_forward::launch(
            &x.client,
            grid(self.outputs, rows),
            CubeDim::new_2d(UNITS, UNITS),
            arg(x),
            arg(&self.kernel),
            arg(&self.bias),
            arg(&out),
            rows as u32,
            self.inputs as u32,
            self.outputs as u32,
            self.transposed,
            relu,
        );
        out
    }

    /// The gradient at this layer's input `x`, itself the output of a ReLU.
    fn backward_input(&self, grad_out: &CubeTensor, x: &CubeTensor) -> CubeTensor {
        let rows = x.meta.shape()[0];
        let grad_in = empty(x, &[rows, self.inputs]);
        kernels::dense_backward_input::launch(
            &x.client,
            grid(self.inputs, rows),
            CubeDim::new_2d(UNITS, UNITS),
            arg(grad_out),
            arg(&self.kernel),
            arg(x),
            arg(&grad_in),
            rows as u32,
            self.inputs as u32,
            self.outputs as u32,
            self.transposed,
        );
        grad_in
    }

    /// This (untied) layer's kernel and bias after an SGD step.
    fn updated(&self, x: &CubeTensor, grad_out: &CubeTensor, learning_rate: f32) -> (CubeTensor, CubeTensor) {
        let rows = x.meta.shape()[0];
        let new_kernel = empty(x, &[self.inputs, self.outputs]);
        let new_bias = empty(x, &[self.outputs]);
        kernels::dense_update::launch(
            &x.client,
            grid(self.outputs, self.inputs + 1),
            CubeDim::new_2d(UNITS, UNITS),
            arg(x),
            arg(grad_out),
            arg(&self.kernel),
            arg(&self.bias),
            arg(&new_kernel),
            arg(&new_bias),
            rows as u32,
            self.inputs as u32,
            self.outputs as u32,
            learning_rate,
        );
        (new_kernel, new_bias)
    }

    /// This encoder layer's kernel and bias, and its tied decoder layer's bias, after an SGD
    /// step: `decoder` reads this layer's kernel transposed.
    fn tied_updated(
        &self,
        x: &CubeTensor,
        grad_out: &CubeTensor,
        decoder: &Layer,
        decoder_x: &CubeTensor,
        decoder_grad_out: &CubeTensor,
        learning_rate: f32,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let rows = x.meta.shape()[0];
        let new_kernel = empty(x, &[self.inputs, self.outputs]);
        let new_bias = empty(x, &[self.outputs]);
        let new_decoder_bias = empty(x, &[self.inputs]);
        kernels::tied_update::launch(
            &x.client,
            grid(self.outputs, self.inputs),
            CubeDim::new_2d(UNITS, UNITS),
            arg(x),
            arg(grad_out),
            arg(decoder_x),
            arg(decoder_grad_out),
            arg(&self.kernel),
            arg(&new_kernel),
            rows as u32,
            self.inputs as u32,
            self.outputs as u32,
            learning_rate,
        );
        let biases = self.inputs + self.outputs;
        kernels::tied_bias_update::launch(
            &x.client,
            CubeCount::Static(biases.div_ceil(BIAS_UNITS as usize) as u32, 1, 1),
            CubeDim::new_1d(BIAS_UNITS),
            arg(grad_out),
            arg(decoder_grad_out),
            arg(&self.bias),
            arg(&decoder.bias),
            arg(&new_bias),
            arg(&new_decoder_bias),
            rows as u32,
            self.inputs as u32,
            self.outputs as u32,
            learning_rate,
        );
        (new_kernel, new_bias, new_decoder_bias)
    }
}

/// Adds the mean loss and rounded accuracy of `logits` against `targets` (`scale` = 1 / values
/// averaged) row by row to `sums: [rows, 2]`; returns the loss gradient when `with_grad`.
fn loss(logits: &CubeTensor, targets: &CubeTensor, sums: &CubeTensor, scale: f32, with_grad: bool) -> Option<CubeTensor> {
    let [rows, pixels] = [logits.meta.shape()[0], logits.meta.shape()[1]];
    // Without a gradient the kernel still needs a buffer to bind: a one-value dummy.
    let grad = if with_grad { empty(logits, &[rows, pixels]) } else { empty(logits, &[1, 1]) };
    kernels::bce_with_logits::launch(
        &logits.client,
        CubeCount::Static((rows as u32).div_ceil(LOSS_UNITS), 1, 1),
        CubeDim::new_1d(LOSS_UNITS),
        arg(logits),
        arg(targets),
        arg(&grad),
        arg(sums),
        rows as u32,
        pixels as u32,
        scale,
        with_grad,
    );
    with_grad.then_some(grad)
}

/// One SGD step of `model` (on the inner, non-autodiff device) on a batch: `input` is what the
/// model sees (corrupted for the denoising and dropout models), `target` what it must rebuild.
/// Adds the batch's mean loss and rounded accuracy to `sums` (`[at least rows, 2]`, row by row,
/// see [`epoch_means`]); returns the updated model.
pub(crate) fn train_step(model: &Autoencoder, input: Tensor<2>, target: Tensor<2>, learning_rate: f64, sums: &Tensor<2>) -> Autoencoder {
    let layers: Vec<Layer> = model.dense_layers().into_iter().map(Layer::of).collect();
    let target = cube_tensor(target);
    let [rows, pixels] = [target.meta.shape()[0], target.meta.shape()[1]];
    let last = layers.len() - 1;

    // activations[l] is layer l's input; the last entry is the logits.
    let mut activations = vec![cube_tensor(input)];
    for (index, layer) in layers.iter().enumerate() {
        let out = layer.forward(&activations[index], index < last);
        activations.push(out);
    }
    let sums = cube_tensor(sums.clone());
    let scale = 1.0 / (rows * pixels) as f32;
    let grad_logits = loss(&activations[last + 1], &target, &sums, scale, true).expect("asked for the gradient");

    // grads[l]: the loss gradient at layer l's output (before its ReLU). All are computed from
    // the old weights before any update is launched: a tied kernel serves two layers.
    let mut grads = vec![grad_logits];
    for index in (1..layers.len()).rev() {
        let grad_in = layers[index].backward_input(&grads[0], &activations[index]);
        grads.insert(0, grad_in);
    }

    let learning_rate = learning_rate as f32;
    let encoder_layers = model.encoder_len();
    let mut kernels = Vec::with_capacity(layers.len());
    let mut biases: Vec<Option<CubeTensor>> = vec![None; layers.len()];
    for (index, layer) in layers.iter().enumerate() {
        let mirror = layers.len() - 1 - index;
        if index < encoder_layers && layers[mirror].transposed {
            let (kernel, bias, decoder_bias) =
                layer.tied_updated(&activations[index], &grads[index], &layers[mirror], &activations[mirror], &grads[mirror], learning_rate);
            kernels.push(Some(kernel));
            biases[index] = Some(bias);
            biases[mirror] = Some(decoder_bias);
        } else if layer.transposed {
            kernels.push(None);
        } else {
            let (kernel, bias) = layer.updated(&activations[index], &grads[index], learning_rate);
            kernels.push(Some(kernel));
            biases[index] = Some(bias);
        }
    }
    model.clone().with_dense_parameters(
        kernels.into_iter().map(|k| k.map(burn_tensor)).collect(),
        biases.into_iter().map(|b| burn_tensor(b.expect("every layer's bias is updated"))).collect(),
    )
}

/// Adds the mean loss and rounded accuracy of `model` on `images` to `sums` row by row
/// (`[at least rows, 2]`): each row gets its image's means over the pixels.
pub(crate) fn evaluate(model: &Autoencoder, images: Tensor<2>, sums: &Tensor<2>) {
    let layers: Vec<Layer> = model.dense_layers().into_iter().map(Layer::of).collect();
    let images = cube_tensor(images);
    let last = layers.len() - 1;
    let mut x = images.clone();
    for (index, layer) in layers.iter().enumerate() {
        x = layer.forward(&x, index < last);
    }
    let pixels = images.meta.shape()[1];
    loss(&x, &images, &cube_tensor(sums.clone()), 1.0 / pixels as f32, false);
}

/// Zeroed running sums for up to `rows` images per batch, for [`train_step`] and [`evaluate`].
pub(crate) fn zero_sums(rows: usize, device: &Device) -> Tensor<2> {
    Tensor::zeros([rows.max(1), 2], device)
}

/// The sums of [`zero_sums`]' columns: (total loss, total rounded accuracy), still on the device.
pub(crate) fn sum_rows(sums: &Tensor<2>) -> Tensor<2> {
    sums.clone().sum_dim(0)
}

/// Images kept on the device as packed `u8` pixels, with what they were uploaded from.
#[derive(Clone)]
pub(crate) struct DeviceImages {
    /// The source's address and length: a new or grown set is uploaded again.
    source: (usize, usize),
    pixels: Handle,
}

impl DeviceImages {
    fn of(images: &LabeledImages, device: &Device) -> Self {
        Self { source: source_key(images), pixels: Gpu::of(device).client.create_from_slice(images.pixels()) }
    }

    /// `images` on the device: what `slot` holds if it is them, else uploaded into `slot`.
    pub(crate) fn cached(slot: &mut Option<Self>, images: &LabeledImages, device: &Device) -> Self {
        if !slot.as_ref().is_some_and(|cached| cached.source == source_key(images)) {
            *slot = Some(Self::of(images, device));
        }
        slot.clone().expect("just filled")
    }
}

fn source_key(images: &LabeledImages) -> (usize, usize) {
    (images.pixels().as_ptr() as usize, images.len())
}


/// An epoch's (or a validation's) image order, uploaded once; batches are gathered from the
/// images on the device by a kernel.
pub(crate) struct DeviceOrder {
    order: Handle,
    len: usize,
    gpu: Gpu,
}

impl DeviceOrder {
    pub(crate) fn new(order: &[usize], device: &Device) -> Self {
        let bytes: Vec<u8> = order.iter().flat_map(|&i| (i as u32).to_le_bytes()).collect();
        let gpu = Gpu::of(device);
        Self { order: gpu.client.create_from_slice(&bytes), len: order.len(), gpu }
    }

    /// Images `order[first..first + rows]` of `images` as a `[rows, 784]` tensor in [0, 1].
    pub(crate) fn gather(&self, images: &DeviceImages, first: usize, rows: usize) -> Tensor<2> {
        assert!(first + rows <= self.len, "a batch inside the order");
        let out = self.gpu.empty(&[rows, IMAGE_PIXELS]);
        let values = rows * IMAGE_PIXELS;
        // SAFETY: the lengths are those of the uploaded buffers.
        let (pixels, order) = unsafe {
            (
                BufferArg::from_raw_parts(images.pixels.clone(), images.source.1 * kernels::WORDS_PER_IMAGE as usize),
                BufferArg::from_raw_parts(self.order.clone(), self.len),
            )
        };
        kernels::gather_images::launch(
            &self.gpu.client,
            CubeCount::Static(values.div_ceil(GATHER_UNITS as usize) as u32, 1, 1),
            CubeDim::new_1d(GATHER_UNITS),
            pixels,
            order,
            arg(&out),
            first as u32,
            rows as u32,
        );
        burn_tensor(out)
    }
}
