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

/// Outputs per unit along each side of the products: every unit computes a `BLOCK x BLOCK`
/// block, so each value it loads serves `BLOCK` multiply-adds. Loads, not arithmetic, bound
/// these small products (on CPU-emulated adapters above all, where each is a gather).
pub const BLOCK: usize = 8;

/// The `BLOCK x BLOCK` block of `A · B` whose top-left entry is `[row0][column0]`, into `sums`
/// (row-major), for `A: [m, n]` and `B: [n, p]` given by strides: `A[r][k]` is
/// `a[r·a_row + k·a_k]` and `B[k][c]` is `b[k·b_k + c·b_column]`. With `a_ones_row`, A's last
/// row is ones (not stored; a bias's gradient under `xᵀ`); with `b_ones_column`, B's last
/// column. Entries outside the product are 0.
#[cube]
fn product_block(
    a: &[f32],
    b: &[f32],
    sums: &mut Array<f32>,
    m: usize,
    n: usize,
    p: usize,
    row0: usize,
    column0: usize,
    a_row: usize,
    a_k: usize,
    b_k: usize,
    b_column: usize,
    #[comptime] a_ones_row: bool,
    #[comptime] b_ones_column: bool,
) {
    // Where each row of A's block (column of B's) starts, and how to read it: value·scale + one.
    // Rows outside read a valid place and scale it to 0, so the loop needs no branch.
    let mut a_start = Array::<usize>::new(BLOCK);
    let mut a_scale = Array::<f32>::new(BLOCK);
    let mut a_one = Array::<f32>::new(BLOCK);
    let mut b_start = Array::<usize>::new(BLOCK);
    let mut b_scale = Array::<f32>::new(BLOCK);
    let mut b_one = Array::<f32>::new(BLOCK);
    let mut a_stored = m;
    if comptime![a_ones_row] {
        a_stored = m - 1;
    }
    let mut b_stored = p;
    if comptime![b_ones_column] {
        b_stored = p - 1;
    }
    #[unroll]
    for i in 0..BLOCK {
        let row = row0 + i;
        let column = column0 + i;
        a_start[i] = select(row < a_stored, row * a_row, 0);
        a_scale[i] = select(row < a_stored, 1.0, 0.0);
        a_one[i] = select(row >= a_stored && row < m, 1.0, 0.0);
        b_start[i] = select(column < b_stored, column * b_column, 0);
        b_scale[i] = select(column < b_stored, 1.0, 0.0);
        b_one[i] = select(column >= b_stored && column < p, 1.0, 0.0);
    }
    #[unroll]
    for i in 0..BLOCK * BLOCK {
        sums[i] = 0.0;
    }
    let mut a_values = Array::<f32>::new(BLOCK);
    let mut b_values = Array::<f32>::new(BLOCK);
    for k in 0..n {
        #[unroll]
        for i in 0..BLOCK {
            a_values[i] = a[a_start[i] + k * a_k] * a_scale[i] + a_one[i];
            b_values[i] = b[b_start[i] + k * b_k] * b_scale[i] + b_one[i];
        }
        #[unroll]
        for i in 0..BLOCK {
            #[unroll]
            for j in 0..BLOCK {
                sums[i * BLOCK + j] += a_values[i] * b_values[j];
            }
        }
    }
}

/// This unit's block: its first row (y) and first column (x).
#[cube]
fn block_origin() -> (usize, usize) {
    (ABSOLUTE_POS_Y as usize * BLOCK, ABSOLUTE_POS_X as usize * BLOCK)
}

/// `out = x · K + b`, through a ReLU when `relu`. Blocks: x over the outputs, y over the rows.
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
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    let (row0, column0) = block_origin();
    // K[k][c]: kernel[k·outputs + c], or kernel[c·inputs + k] stored transposed.
    let mut k_stride = outputs;
    let mut column_stride = 1;
    if comptime![transposed] {
        k_stride = 1;
        column_stride = inputs;
    }
    let mut sums = Array::<f32>::new(BLOCK * BLOCK);
    product_block(x, kernel, &mut sums, rows, inputs, outputs, row0, column0, inputs, 1, k_stride, column_stride, false, false);
    #[unroll]
    for i in 0..BLOCK {
        #[unroll]
        for j in 0..BLOCK {
            let (row, column) = (row0 + i, column0 + j);
            if row < rows && column < outputs {
                let mut sum = sums[i * BLOCK + j] + bias[column];
                if comptime![relu] {
                    if sum < 0.0 {
                        sum = 0.0;
                    }
                }
                out[row * outputs + column] = sum;
            }
        }
    }
}

/// The gradient reaching a ReLU layer's input `x` (its own output before this layer):
/// `dx = (dy · Kᵀ) ⊙ [x > 0]`. Blocks: x over the inputs, y over the rows.
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
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    let (row0, column0) = block_origin();
    // Kᵀ[j][i] = K[i][j]: kernel[i·outputs + j], or kernel[j·inputs + i] stored transposed.
    let mut k_stride = 1;
    let mut column_stride = outputs;
    if comptime![transposed] {
        k_stride = inputs;
        column_stride = 1;
    }
    let mut sums = Array::<f32>::new(BLOCK * BLOCK);
    product_block(grad_out, kernel, &mut sums, rows, outputs, inputs, row0, column0, outputs, 1, k_stride, column_stride, false, false);
    #[unroll]
    for r in 0..BLOCK {
        #[unroll]
        for c in 0..BLOCK {
            let (row, i) = (row0 + r, column0 + c);
            if row < rows && i < inputs {
                let index = row * inputs + i;
                // A ReLU passes no gradient where it output 0.
                let mut gradient = 0.0;
                if x[index] > 0.0 {
                    gradient = sums[r * BLOCK + c];
                }
                grad_in[index] = gradient;
            }
        }
    }
}

/// The SGD update of one untied layer, into new buffers: `K' = K - lr·xᵀ·dy` and
/// `b' = b - lr·Σ dy` (the bias as a row of ones under `xᵀ`). Blocks: x over the outputs, y
/// over the inputs plus one row for the bias.
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
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    let (row0, column0) = block_origin();
    let mut gradient = Array::<f32>::new(BLOCK * BLOCK);
    product_block(x, grad_out, &mut gradient, inputs + 1, rows, outputs, row0, column0, 1, inputs, outputs, 1, true, false);
    #[unroll]
    for r in 0..BLOCK {
        #[unroll]
        for c in 0..BLOCK {
            let (i, j) = (row0 + r, column0 + c);
            let step = learning_rate * gradient[r * BLOCK + c];
            if i < inputs && j < outputs {
                let index = i * outputs + j;
                new_kernel[index] = kernel[index] - step;
            } else if i == inputs && j < outputs {
                new_bias[j] = bias[j] - step;
            }
        }
    }
}

/// The SGD update of the kernel an encoder layer shares with its tied decoder layer,
/// `W: [inputs, outputs]`: its gradient is `xᵀ·dy` from the encoder plus `(x̃ᵀ·dỹ)ᵀ = dỹᵀ·x̃` from
/// the decoder, where the decoder layer maps `x̃: [rows, outputs]` to `ỹ: [rows, inputs]`. The
/// biases go through [`tied_bias_update`]: WebGPU lets a kernel bind 8 storage buffers, and one
/// kernel for both would need 10. Blocks: x over the outputs, y over the inputs.
#[cube(launch)]
pub fn tied_update(
    x: &[f32],
    grad_out: &[f32],
    decoder_x: &[f32],
    decoder_grad_out: &[f32],
    kernel: &[f32],
    new_kernel: &mut [f32],
    rows: u32,
    inputs: u32,
    outputs: u32,
    learning_rate: f32,
) {
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    let (row0, column0) = block_origin();
    let mut encoder = Array::<f32>::new(BLOCK * BLOCK);
    let mut decoder = Array::<f32>::new(BLOCK * BLOCK);
    product_block(x, grad_out, &mut encoder, inputs, rows, outputs, row0, column0, 1, inputs, outputs, 1, false, false);
    product_block(decoder_grad_out, decoder_x, &mut decoder, inputs, rows, outputs, row0, column0, 1, inputs, outputs, 1, false, false);
    #[unroll]
    for r in 0..BLOCK {
        #[unroll]
        for c in 0..BLOCK {
            let (i, j) = (row0 + r, column0 + c);
            if i < inputs && j < outputs {
                let index = i * outputs + j;
                new_kernel[index] = kernel[index] - learning_rate * (encoder[r * BLOCK + c] + decoder[r * BLOCK + c]);
            }
        }
    }
}

/// The SGD update of a tied pair's biases: the encoder layer's `b' = b - lr·Σ dy` (`outputs`
/// values) and the decoder layer's `b̃' = b̃ - lr·Σ dỹ` (`inputs` values). One unit per bias
/// value, the encoder's first.
#[cube(launch)]
pub fn tied_bias_update(
    grad_out: &[f32],
    decoder_grad_out: &[f32],
    bias: &[f32],
    decoder_bias: &[f32],
    new_bias: &mut [f32],
    new_decoder_bias: &mut [f32],
    rows: u32,
    inputs: u32,
    outputs: u32,
    learning_rate: f32,
) {
    let (rows, inputs, outputs) = (rows as usize, inputs as usize, outputs as usize);
    let position = ABSOLUTE_POS;
    if position < outputs {
        new_bias[position] = bias[position] - learning_rate * column_sum(grad_out, position, rows, outputs);
    } else if position < outputs + inputs {
        let i = position - outputs;
        new_decoder_bias[i] = decoder_bias[i] - learning_rate * column_sum(decoder_grad_out, i, rows, inputs);
    }
}

/// `Σ_rows g[row][column]`: a bias's gradient.
#[cube]
fn column_sum(g: &[f32], column: usize, rows: usize, width: usize) -> f32 {
    let mut sum = 0.0;
    for row in 0..rows {
        sum += g[row * width + column];
    }
    sum
}

/// Binary cross-entropy from logits and the rounded accuracy, one unit per image (row):
/// adds `scale · Σ loss` and `scale · Σ [round(y) = round(sigmoid z)]` over the row's pixels to
/// `sums[row][0]` and `sums[row][1]`, and with `with_grad` writes the loss gradient
/// `scale · (sigmoid(z) - y)` (the loss's gradient when it is the mean over `1/scale` values).
///
/// `sums` belongs to one epoch (or one validation) and one unit owns each row, so the running
/// figures need no atomics (WebGPU has none for floats), no extra launch, and no barriers: a
/// shared-memory reduction per row (one cube per row, 8 barriers) cost more than the whole loss
/// on CPU-emulated adapters, where a barrier switches every unit of the cube.
#[cube(launch)]
pub fn bce_with_logits(
    logits: &[f32],
    targets: &[f32],
    grad: &mut [f32],
    sums: &mut [f32],
    rows: u32,
    pixels: u32,
    scale: f32,
    #[comptime] with_grad: bool,
) {
    let row = ABSOLUTE_POS_X as usize;
    if row >= rows as usize {
        terminate!();
    }
    let pixels = pixels as usize;
    let mut loss = 0.0;
    let mut hits = 0.0;
    for p in 0..pixels {
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
    }
    sums[row * 2] += scale * loss;
    sums[row * 2 + 1] += scale * hits;
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
