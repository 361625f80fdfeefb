//! The compute kernels of the fused training step, in CubeCL (compiled to WGSL for WebGPU, to
//! SPIR-V or WGSL natively). All matrices are row-major `f32` slices whose sizes come as
//! arguments; every kernel checks its bounds, as grids are rounded up to whole cubes.
//!
//! Notation: a dense layer computes `y = x · K + b` with `x: [rows, inputs]`,
//! `K: [inputs, outputs]`. A tied decoder layer stores no kernel of its own: it reads its
//! encoder's `W: [outputs, inputs]` transposed (`transposed`), so `K[i][j] = W[j][i]`.

use cubecl::prelude::*;

/// Bytes per image in the packed pixel buffers: 784 `u8` pixels, four to a `u32` word.
pub const WORDS_PER_IMAGE: u32 = (crate::data::IMAGE_PIXELS / 4) as u32;

/// `K[i][j]` of a layer's kernel, stored plain or transposed.
#[cube]
fn kernel_at(kernel: &[f32], i: usize, j: usize, inputs: usize, outputs: usize, #[comptime] transposed: bool) -> f32 {
    let mut index = i * outputs + j;
    if comptime![transposed] {
        index = j * inputs + i;
    }
    kernel[index]
}

/// `out = x · K + b`, through a ReLU when `relu`. One unit per output value: x runs over the
/// outputs, y over the rows.
#[cube(launch)]
pub fn dense_forward(
    x: &[f32],
    kernel: &[f32],
    bias: &[f32],
    out: &mut [f32],
    rows: u32,
    inputs: u32,
    outputs: u32,
    #[comptime] transposed: bool,
    #[comptime] relu: bool,
) {
    let column = ABSOLUTE_POS_X as usize;
    let row = ABSOLUTE_POS_Y as usize;
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    if row >= rows || column >= outputs {
        terminate!();
    }
    let mut sum = bias[column];
    for i in 0..inputs {
        sum += x[row * inputs + i] * kernel_at(kernel, i, column, inputs, outputs, transposed);
    }
    if comptime![relu] {
        if sum < 0.0 {
            sum = 0.0;
        }
    }
    out[row * outputs + column] = sum;
}

/// The gradient reaching a ReLU layer's input `x` (its own output before this layer):
/// `dx = (dy · Kᵀ) ⊙ [x > 0]`. One unit per input value: x over the inputs, y over the rows.
#[cube(launch)]
pub fn dense_backward_input(
    grad_out: &[f32],
    kernel: &[f32],
    x: &[f32],
    grad_in: &mut [f32],
    rows: u32,
    inputs: u32,
    outputs: u32,
    #[comptime] transposed: bool,
) {
    let i = ABSOLUTE_POS_X as usize;
    let row = ABSOLUTE_POS_Y as usize;
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    if row >= rows || i >= inputs {
        terminate!();
    }
    let mut sum = 0.0;
    // A ReLU passes no gradient where it output 0.
    if x[row * inputs + i] > 0.0 {
        for j in 0..outputs {
            sum += grad_out[row * outputs + j] * kernel_at(kernel, i, j, inputs, outputs, transposed);
        }
    }
    grad_in[row * inputs + i] = sum;
}

/// `Σ_rows a[row][p] · b[row][q]`: one entry of `aᵀ · b`.
#[cube]
fn outer_sum(a: &[f32], b: &[f32], p: usize, q: usize, rows: usize, a_width: usize, b_width: usize) -> f32 {
    let mut sum = 0.0;
    for row in 0..rows {
        sum += a[row * a_width + p] * b[row * b_width + q];
    }
    sum
}

/// `Σ_rows g[row][q]`: a bias gradient.
#[cube]
fn column_sum(g: &[f32], q: usize, rows: usize, width: usize) -> f32 {
    let mut sum = 0.0;
    for row in 0..rows {
        sum += g[row * width + q];
    }
    sum
}

/// The SGD update of one untied layer, into new buffers: `K' = K - lr·xᵀ·dy`, `b' = b - lr·Σ dy`.
/// Units: x over the outputs, y over the inputs plus one row for the bias.
#[cube(launch)]
pub fn dense_update(
    x: &[f32],
    grad_out: &[f32],
    kernel: &[f32],
    bias: &[f32],
    new_kernel: &mut [f32],
    new_bias: &mut [f32],
    rows: u32,
    inputs: u32,
    outputs: u32,
    learning_rate: f32,
) {
    let j = ABSOLUTE_POS_X as usize;
    let i = ABSOLUTE_POS_Y as usize;
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    if j >= outputs || i > inputs {
        terminate!();
    }
    if i < inputs {
        let index = i * outputs + j;
        new_kernel[index] = kernel[index] - learning_rate * outer_sum(x, grad_out, i, j, rows, inputs, outputs);
    } else {
        new_bias[j] = bias[j] - learning_rate * column_sum(grad_out, j, rows, outputs);
    }
}

/// The SGD update of an encoder layer and its tied decoder layer, which share the encoder's
/// `W: [inputs, outputs]`: its gradient is `xᵀ·dy` from the encoder plus `(x̃ᵀ·dỹ)ᵀ` from the
/// decoder, where the decoder layer maps `x̃: [rows, outputs]` to `ỹ: [rows, inputs]`.
/// Units: x over the outputs plus one column (the decoder's bias), y over the inputs plus one
/// row (the encoder's bias).
#[cube(launch)]
pub fn tied_update(
    x: &[f32],
    grad_out: &[f32],
    decoder_x: &[f32],
    decoder_grad_out: &[f32],
    kernel: &[f32],
    bias: &[f32],
    decoder_bias: &[f32],
    new_kernel: &mut [f32],
    new_bias: &mut [f32],
    new_decoder_bias: &mut [f32],
    rows: u32,
    inputs: u32,
    outputs: u32,
    learning_rate: f32,
) {
    let j = ABSOLUTE_POS_X as usize;
    let i = ABSOLUTE_POS_Y as usize;
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    if j > outputs || i > inputs {
        terminate!();
    }
    if i < inputs && j < outputs {
        let index = i * outputs + j;
        let gradient = outer_sum(x, grad_out, i, j, rows, inputs, outputs) + outer_sum(decoder_x, decoder_grad_out, j, i, rows, outputs, inputs);
        new_kernel[index] = kernel[index] - learning_rate * gradient;
    } else if i == inputs && j < outputs {
        new_bias[j] = bias[j] - learning_rate * column_sum(grad_out, j, rows, outputs);
    } else if i < inputs && j == outputs {
        new_decoder_bias[i] = decoder_bias[i] - learning_rate * column_sum(decoder_grad_out, i, rows, inputs);
    }
}

/// Binary cross-entropy from logits and the rounded accuracy, one cube per image (row):
/// adds `scale · Σ loss` and `scale · Σ [round(y) = round(sigmoid z)]` over the row's pixels to
/// `sums[row][0]` and `sums[row][1]`, and with `with_grad` writes the loss gradient
/// `scale · (sigmoid(z) - y)` (the loss's gradient when it is the mean over `1/scale` values).
///
/// `sums` belongs to one epoch (or one validation) and one cube owns each row, so the running
/// figures need no atomics (WebGPU has none for floats) and no extra launch.
#[cube(launch)]
pub fn bce_with_logits(
    logits: &[f32],
    targets: &[f32],
    grad: &mut [f32],
    sums: &mut [f32],
    pixels: u32,
    scale: f32,
    #[comptime] units: usize,
    #[comptime] with_grad: bool,
) {
    let row = CUBE_POS_X as usize;
    let unit = UNIT_POS_X as usize;
    let pixels = pixels as usize;
    let mut loss = 0.0;
    let mut hits = 0.0;
    let mut p = unit;
    while p < pixels {
        let index = row * pixels + p;
        let z = logits[index];
        let y = targets[index];
        let mut positive = z;
        if z < 0.0 {
            positive = 0.0;
        }
        // max(z, 0) - z·y + ln(1 + e^-|z|): never the log of 0.
        loss += positive - z * y + Log1p::log1p(Exp::exp(-Abs::abs(z)));
        // round(sigmoid(z)) is 1 exactly when z > 0; a pixel k/255 rounds to 1 above 0.5.
        if (y > 0.5) == (z > 0.0) {
            hits += 1.0;
        }
        if comptime![with_grad] {
            grad[index] = scale * (1.0 / (1.0 + Exp::exp(-z)) - y);
        }
        p += units;
    }
    let mut losses = Shared::new_slice(units);
    let mut matches = Shared::new_slice(units);
    losses[unit] = loss;
    matches[unit] = hits;
    sync_cube();
    let mut stride = CUBE_DIM_X / 2;
    while stride > 0 {
        if (unit as u32) < stride {
            let other = unit + stride as usize;
            let (l, m) = (losses[other], matches[other]);
            losses[unit] += l;
            matches[unit] += m;
        }
        sync_cube();
        stride /= 2;
    }
    if unit == 0 {
        sums[row * 2] += scale * losses[0];
        sums[row * 2 + 1] += scale * matches[0];
    }
}

/// A batch of images as floats in [0, 1]: row r is image `order[first + r]` of `pixels`, whose
/// `u8` pixels are packed four to a little-endian `u32`. One unit per pixel.
#[cube(launch)]
pub fn gather_images(pixels: &[u32], order: &[u32], out: &mut [f32], first: u32, rows: u32) {
    let position = ABSOLUTE_POS;
    let image_pixels = (WORDS_PER_IMAGE * 4) as usize;
    if position >= rows as usize * image_pixels {
        terminate!();
    }
    let row = position / image_pixels;
    let pixel = position % image_pixels;
    let image = order[first as usize + row] as usize;
    let word = pixels[image * WORDS_PER_IMAGE as usize + pixel / 4];
    let byte = (word >> (8 * (pixel % 4) as u32)) & 255;
    out[position] = f32::cast_from(byte) / 255.0;
}
