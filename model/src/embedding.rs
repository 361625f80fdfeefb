//! 2-D maps of the 32-d codes with t-SNE (the `bhtsne` crate), started from the codes'
//! PCA projection as scikit-learn does rather than at random: in the browser (one thread) the same
//! codes always give the same map; natively bhtsne's parallel sums may round differently. Also
//! the two measures of a map's quality: trustworthiness and k-NN label accuracy.

use bhtsne::tSNE;

use crate::neighbours::nearest_to;

#[derive(Clone, Debug, PartialEq)]
pub struct TsneConfig {
    pub perplexity: f32,
    pub iterations: usize,
    pub repulsion: Repulsion,
}

/// How the repulsive forces between all pairs of points are approximated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Repulsion {
    /// A quadtree, far cells summarised (scikit-learn's method); `theta` trades accuracy for
    /// speed (0 is exact).
    BarnesHut { theta: f32 },
    /// FIt-SNE's interpolation on a grid with FFTs: O(n) per iteration.
    Interpolated,
}

impl Default for TsneConfig {
    /// scikit-learn's perplexity and iterations. Interpolation, not scikit-learn's Barnes-Hut:
    /// on the 10k test codes it is 20% faster on one thread at the same quality (measured:
    /// trustworthiness 0.9958 vs 0.9955, 5-NN accuracy 0.7959 both).
    fn default() -> Self {
        Self { perplexity: 30.0, iterations: 1000, repulsion: Repulsion::Interpolated }
    }
}

/// Embeds `points` (row-major, `dim` values each) in 2-D; calls `on_iteration` with each
/// iteration's number and the map so far (row-major x, y), so a page can animate it.
pub fn tsne(points: &[f32], dim: usize, config: &TsneConfig, on_iteration: impl FnMut(usize, &[f32])) -> Vec<f32> {
    let samples: Vec<&[f32]> = points.chunks_exact(dim).collect();
    let n = samples.len();
    if n < 4 {
        return pca_2d(points, dim);
    }
    // Each point needs 3 x perplexity neighbours.
    let perplexity = config.perplexity.min((n - 1) as f32 / 3.0);
    // scikit-learn's learning_rate="auto", times 4: scikit-learn's gradient carries the factor 4
    // of the t-SNE gradient, bhtsne's leaves it to the learning rate.
    let learning_rate = 4.0 * (n as f32 / 12.0 / 4.0).max(50.0);
    let mut tsne = tSNE::<f32, &[f32]>::new(&samples);
    tsne.perplexity(perplexity)
        .epochs(config.iterations)
        .learning_rate(learning_rate)
        .early_exaggeration(12.0)
        .initial_embedding(pca_2d(points, dim))
        .epoch_callback(on_iteration);
    match config.repulsion {
        Repulsion::BarnesHut { theta } => tsne.barnes_hut(theta, |a, b| euclidean(a, b)),
        Repulsion::Interpolated => tsne.fit_sne(|a, b| euclidean(a, b)),
    }
    .embedding()
}

fn euclidean(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
}

/// [`pca_projection`] scaled so the first component has standard deviation 1e-4
/// (scikit-learn's t-SNE initialisation).
pub fn pca_2d(points: &[f32], dim: usize) -> Vec<f32> {
    let mut projected = pca_projection(points, dim);
    let n = projected.len() / 2;
    if n == 0 {
        return projected;
    }
    let std = (projected.iter().step_by(2).map(|&x| f64::from(x).powi(2)).sum::<f64>() / n as f64).sqrt();
    let scale = if std > 0.0 { (1e-4 / std) as f32 } else { 0.0 };
    projected.iter_mut().for_each(|v| *v *= scale);
    projected
}

/// Each row (`dim` values) centred and projected on the first two principal components: x, y
/// per row, in the data's own units, so the variance of the xs is the first component's. Each
/// axis points so that its largest-magnitude loading is positive: the same data always gives
/// the same picture, never a mirror image. Empty for `dim` 0 or no whole row.
///
/// Never forms the `dim`² covariance matrix (for the 10,000 test images' 784 pixels that alone
/// is 3e9 multiply-adds): a block power iteration multiplies by it one row at a time instead,
/// a dozen passes over the rows for the test images (0.2 s natively).
pub fn pca_projection(points: &[f32], dim: usize) -> Vec<f32> {
    if dim == 0 || points.len() < dim {
        return Vec::new();
    }
    let mean = column_means(points, dim);
    let (axes, _) = principal_axes(points, dim, &mean);
    let shift = centre_coordinates(&mean, &axes);
    let mut projected = Vec::with_capacity(points.len() / dim * 2);
    let mut groups = points.chunks_exact(dim * ROW_GROUP);
    for group in &mut groups {
        let y = coordinates(group_rows(group, dim), &axes, &shift);
        projected.extend(y.iter().flat_map(|y| [y[0] as f32, y[1] as f32]));
    }
    for row in groups.remainder().chunks_exact(dim) {
        let [y] = coordinates([row], &axes, &shift);
        projected.extend([y[0] as f32, y[1] as f32]);
    }
    projected
}

fn column_means(points: &[f32], dim: usize) -> Vec<f64> {
    let n = (points.len() / dim) as f64;
    let mut mean = vec![0.0f64; dim];
    for row in points.chunks_exact(dim) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += f64::from(v));
    }
    mean.iter_mut().for_each(|m| *m /= n);
    mean
}

/// Directions the power iteration follows at once: the two wanted and two more, so the second
/// converges at the rate λ₅/λ₂ rather than λ₃/λ₂, and a near tie between the second and third
/// components (which a 2-vector iteration would crawl through) costs nothing.
const BLOCK: usize = 4;
/// A cap for data with no clear top two (isotropic noise): there every answer captures about
/// the same variance, and each round costs time (32 take about 0.5 s on 10,000 × 784 natively;
/// the test images converge in 10).
const MAX_ROUNDS: usize = 32;
/// Converged once both wanted directions v satisfy ‖C·v − λ·v‖ ≤ this × λ₁: the axes are then
/// off by about this much divided by the relative gap to the next variance, far below what a
/// plot shows.
const TOLERANCE: f64 = 1e-6;

/// The first two principal axes by subspace iteration with Rayleigh–Ritz: multiply a block of
/// directions by the covariance, take the best directions within it, orthonormalise, repeat.
/// Each round is one pass over the rows, 2 × rows × dim × [`BLOCK`] multiply-adds; the start is
/// fixed, so the result is deterministic. Returns the block (`dim` rows), whose first two
/// columns are the axes, unit length, signs fixed; and the rounds it took.
fn principal_axes(points: &[f32], dim: usize, mean: &[f64]) -> (Vec<[f64; BLOCK]>, usize) {
    let mut basis = start_block(dim);
    orthonormalise(&mut basis);
    let mut ritz = basis.clone();
    let mut rounds = 0;
    while rounds < MAX_ROUNDS {
        rounds += 1;
        let image = covariance_times(points, dim, mean, &basis);
        // The best approximations within span(basis): eigenvectors of the block's own
        // BLOCK × BLOCK covariance, largest first.
        let mut small = [[0.0f64; BLOCK]; BLOCK];
        for (q, c) in basis.iter().zip(&image) {
            for (a, row) in small.iter_mut().enumerate() {
                for (b, s) in row.iter_mut().enumerate() {
                    *s += (q[a] * c[b] + q[b] * c[a]) / 2.0;
                }
            }
        }
        let (values, vectors) = symmetric_eigen(small);
        ritz = rotate(&basis, &vectors);
        let ritz_image = rotate(&image, &vectors);
        let converged = (0..2).all(|k| {
            let residual = ritz.iter().zip(&ritz_image).map(|(v, cv)| (cv[k] - values[k] * v[k]).powi(2)).sum::<f64>();
            residual.sqrt() <= TOLERANCE * values[0]
        });
        if converged {
            break;
        }
        basis = ritz_image;
        orthonormalise(&mut basis);
    }
    for k in 0..2 {
        let largest = ritz.iter().map(|v| v[k]).fold(0.0f64, |best, a| if a.abs() > best.abs() { a } else { best });
        if largest < 0.0 {
            ritz.iter_mut().for_each(|v| v[k] = -v[k]);
        }
    }
    (ritz, rounds)
}

/// A fixed pseudo-random start (xorshift): deterministic, and with no structure that could
/// leave it orthogonal to the data's main axes.
fn start_block(dim: usize) -> Vec<[f64; BLOCK]> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..dim)
        .map(|_| {
            [(); BLOCK].map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
        })
        .collect()
}

/// C·Q for the covariance C of the rows and a `dim` × [`BLOCK`] block Q, without forming C:
/// Σᵢ (xᵢ − μ) yᵢᵀ / n with yᵢ = Qᵀ(xᵢ − μ), one pass over the rows.
fn covariance_times(points: &[f32], dim: usize, mean: &[f64], basis: &[[f64; BLOCK]]) -> Vec<[f64; BLOCK]> {
    let shift = centre_coordinates(mean, basis);
    let mut product = vec![[0.0f64; BLOCK]; dim];
    let mut groups = points.chunks_exact(dim * ROW_GROUP);
    for group in &mut groups {
        add_outer_products(group_rows(group, dim), basis, &shift, &mut product);
    }
    for row in groups.remainder().chunks_exact(dim) {
        add_outer_products([row], basis, &shift, &mut product);
    }
    let n = (points.len() / dim) as f64;
    product.iter_mut().for_each(|p| p.iter_mut().for_each(|p| *p /= n));
    product
}

/// Rows taken together in the passes over the data: each value of the block loaded serves
/// them all, and their sums are independent chains the processor overlaps (one row at a time
/// waits on each addition; this makes a round about twice as fast).
const ROW_GROUP: usize = 4;

fn group_rows(group: &[f32], dim: usize) -> [&[f32]; ROW_GROUP] {
    std::array::from_fn(|r| &group[r * dim..(r + 1) * dim])
}

/// μᵀQ: what [`coordinates`] subtracts to centre the rows.
fn centre_coordinates(mean: &[f64], basis: &[[f64; BLOCK]]) -> [f64; BLOCK] {
    let mut shift = [0.0f64; BLOCK];
    for (m, q) in mean.iter().zip(basis) {
        shift.iter_mut().zip(q).for_each(|(s, q)| *s += m * q);
    }
    shift
}

/// Qᵀ(x − μ) for each of `R` rows: their coordinates along the block's columns. The innermost
/// loops run over the block's columns, which the compiler vectorises.
fn coordinates<const R: usize>(rows: [&[f32]; R], basis: &[[f64; BLOCK]], shift: &[f64; BLOCK]) -> [[f64; BLOCK]; R] {
    // Rows cut to the block's length, so indexing them by its rows needs no bounds checks.
    let rows = rows.map(|row| &row[..basis.len()]);
    let mut y = [[0.0f64; BLOCK]; R];
    for (j, q) in basis.iter().enumerate() {
        for (y, row) in y.iter_mut().zip(&rows) {
            let x = f64::from(row[j]);
            y.iter_mut().zip(q).for_each(|(y, q)| *y += x * q);
        }
    }
    y.iter_mut().for_each(|y| y.iter_mut().zip(shift).for_each(|(y, s)| *y -= s));
    y
}

/// Adds xᵢ yᵢᵀ to `product` for each of `R` rows, yᵢ their [`coordinates`]. Summed over all
/// rows that is Σ (xᵢ − μ) yᵢᵀ, since the centred yᵢ add up to zero: the rows are read as they
/// are, never copied centred.
fn add_outer_products<const R: usize>(
    rows: [&[f32]; R],
    basis: &[[f64; BLOCK]],
    shift: &[f64; BLOCK],
    product: &mut [[f64; BLOCK]],
) {
    let y = coordinates(rows, basis, shift);
    let rows = rows.map(|row| &row[..product.len()]);
    for (j, p) in product.iter_mut().enumerate() {
        for (y, row) in y.iter().zip(&rows) {
            let x = f64::from(row[j]);
            p.iter_mut().zip(y).for_each(|(p, y)| *p += x * y);
        }
    }
}

/// Gram–Schmidt on the block's columns in order, twice ("twice is enough" for orthogonality in
/// floating point). A column that is (nearly) a combination of the ones before it, as in data
/// of rank below [`BLOCK`], becomes zero rather than amplified rounding noise.
fn orthonormalise(block: &mut [[f64; BLOCK]]) {
    let norm = |block: &[[f64; BLOCK]], c: usize| block.iter().map(|v| v[c] * v[c]).sum::<f64>().sqrt();
    let scale = (0..BLOCK).map(|c| norm(block, c)).fold(0.0, f64::max);
    for c in 0..BLOCK {
        for _ in 0..2 {
            for earlier in 0..c {
                let dot: f64 = block.iter().map(|v| v[c] * v[earlier]).sum();
                block.iter_mut().for_each(|v| v[c] -= dot * v[earlier]);
            }
        }
        let length = norm(block, c);
        let factor = if length > 1e-10 * scale { 1.0 / length } else { 0.0 };
        block.iter_mut().for_each(|v| v[c] *= factor);
    }
}

/// `block` (rows × [`BLOCK`]) times a [`BLOCK`] × [`BLOCK`] matrix given by its columns.
fn rotate(block: &[[f64; BLOCK]], columns: &[[f64; BLOCK]; BLOCK]) -> Vec<[f64; BLOCK]> {
    block.iter().map(|v| columns.map(|u| v.iter().zip(&u).map(|(a, b)| a * b).sum())).collect()
}

/// Eigenvalues (largest first) and unit eigenvectors (as columns, same order) of a small
/// symmetric matrix, by cyclic Jacobi rotations: accurate to rounding in a few sweeps at this
/// size, with nothing to tune.
fn symmetric_eigen(mut matrix: [[f64; BLOCK]; BLOCK]) -> ([f64; BLOCK], [[f64; BLOCK]; BLOCK]) {
    // The eigenvectors as columns, row-major; starts as the identity.
    let mut vectors = [[0.0f64; BLOCK]; BLOCK];
    (0..BLOCK).for_each(|k| vectors[k][k] = 1.0);
    for _ in 0..64 {
        let off: f64 = (0..BLOCK).flat_map(|p| (p + 1..BLOCK).map(move |q| (p, q))).map(|(p, q)| matrix[p][q].powi(2)).sum();
        let diagonal: f64 = (0..BLOCK).map(|p| matrix[p][p].powi(2)).sum();
        if off <= f64::EPSILON.powi(2) * diagonal {
            break;
        }
        for p in 0..BLOCK {
            for q in p + 1..BLOCK {
                if matrix[p][q] == 0.0 {
                    continue;
                }
                // The rotation that zeroes matrix[p][q] (Numerical Recipes' stable form).
                let theta = (matrix[q][q] - matrix[p][p]) / (2.0 * matrix[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // Columns p and q of the matrix and of the eigenvectors, then rows p and q.
                for row in matrix.iter_mut().chain(&mut vectors) {
                    let (a, b) = (row[p], row[q]);
                    row[p] = c * a - s * b;
                    row[q] = s * a + c * b;
                }
                let (row_p, row_q) = (matrix[p], matrix[q]);
                matrix[p] = std::array::from_fn(|k| c * row_p[k] - s * row_q[k]);
                matrix[q] = std::array::from_fn(|k| s * row_p[k] + c * row_q[k]);
            }
        }
    }
    let mut order: [usize; BLOCK] = std::array::from_fn(|k| k);
    order.sort_by(|&a, &b| matrix[b][b].total_cmp(&matrix[a][a]));
    (order.map(|k| matrix[k][k]), order.map(|k| std::array::from_fn(|i| vectors[i][k])))
}

/// Share of points whose label is the majority label of their `k` nearest neighbours in the map.
pub fn knn_accuracy(points: &[f32], dim: usize, labels: &[u8], k: usize) -> f64 {
    let n = points.len() / dim;
    let hits = (0..n)
        .map(|i| (i, nearest_to(points, dim, i, k)))
        .filter(|(i, near)| {
            let mut votes = [0usize; 256];
            near.iter().for_each(|&j| votes[usize::from(labels[j])] += 1);
            let best = (0..256).max_by_key(|&l| (votes[l], usize::MAX - l)).unwrap_or(0);
            best == usize::from(labels[*i])
        })
        .count();
    hits as f64 / labels.len() as f64
}

/// How well the map keeps neighbourhoods: 1 minus a penalty for each of a point's `k` nearest
/// neighbours in the map that is not among its nearest in the original space (scikit-learn's
/// `trustworthiness`, same normalisation). O(n²): meant for benchmarks and tests.
pub fn trustworthiness(original: &[f32], dim: usize, embedded: &[f32], k: usize) -> f64 {
    let n = original.len() / dim;
    let mut penalty = 0.0f64;
    for i in 0..n {
        // Rank (1 = nearest) of every point by its distance to i in the original space.
        let mut rank = vec![0usize; n];
        nearest_to(original, dim, i, n).into_iter().enumerate().for_each(|(r, j)| rank[j] = r + 1);
        let near_in_map = nearest_to(embedded, 2, i, k);
        penalty += near_in_map.iter().map(|&j| rank[j].saturating_sub(k) as f64).sum::<f64>();
    }
    let (n, k) = (n as f64, k as f64);
    1.0 - penalty * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three well-separated clusters in 32-d, 60 points each.
    fn clusters() -> (Vec<f32>, Vec<u8>) {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut noise = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 1000) as f32 / 1000.0 - 0.5
        };
        let mut points = Vec::new();
        let mut labels = Vec::new();
        for i in 0..180 {
            let class = (i % 3) as u8;
            for d in 0..32 {
                let centre = if d % 3 == usize::from(class) { 5.0 } else { 0.0 };
                points.push(centre + noise());
            }
            labels.push(class);
        }
        (points, labels)
    }

    #[test]
    fn tsne_separates_clusters_and_reports_progress() {
        let (points, labels) = clusters();
        let mut calls = 0;
        let config = TsneConfig { iterations: 300, ..TsneConfig::default() };
        // bhtsne's parallel sums add up in whatever order the threads finish, and t-SNE
        // amplifies the last bits: on one thread (as in the page) the map is the same every run.
        let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let map = one_thread.install(|| {
            tsne(&points, 32, &config, |_, embedding| {
                calls += 1;
                assert_eq!(embedding.len(), 360);
            })
        });
        assert_eq!(map.len(), 360);
        assert!(map.iter().all(|v| v.is_finite()));
        assert!(calls >= 300, "{calls} progress calls");
        assert!(knn_accuracy(&map, 2, &labels, 5) > 0.98);
        assert!(trustworthiness(&points, 32, &map, 5) > 0.9);
    }

    #[test]
    fn the_start_is_deterministic() {
        let (points, _) = clusters();
        assert_eq!(pca_2d(&points, 32), pca_2d(&points, 32));
        let first: Vec<f32> = pca_2d(&points, 32).into_iter().step_by(2).collect();
        let std = (first.iter().map(|x| x * x).sum::<f32>() / first.len() as f32).sqrt();
        assert!((std - 1e-4).abs() < 1e-6, "scikit-learn's scale: {std}");
    }

    #[test]
    fn pca_finds_the_main_axis() {
        // Points along (1, 1) with a little spread across it.
        let points: Vec<f32> = (0..50).flat_map(|i| [i as f32, i as f32 + (i % 2) as f32 * 0.1]).collect();
        let projected = pca_2d(&points, 2);
        let first: Vec<f32> = projected.iter().step_by(2).copied().collect();
        assert!(first.windows(2).all(|w| w[0] < w[1]) || first.windows(2).all(|w| w[0] > w[1]));
    }

    /// Deterministic values in [-0.5, 0.5).
    fn noise(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed | 1;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }
    }

    /// `count` orthonormal vectors of `dim` values (Gram–Schmidt on random ones).
    fn orthonormal_frame(dim: usize, count: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut next = noise(seed);
        let mut frame: Vec<Vec<f64>> = Vec::new();
        while frame.len() < count {
            let mut v: Vec<f64> = (0..dim).map(|_| next()).collect();
            for _ in 0..2 {
                for u in &frame {
                    let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
                    v.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
                }
            }
            let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            frame.push(v.into_iter().map(|a| a / norm).collect());
        }
        frame
    }

    /// The sign that makes `axis`'s largest-magnitude entry positive: pca_projection's rule.
    fn sign_of(axis: &[f64]) -> f64 {
        let largest = axis.iter().copied().fold(0.0f64, |best, a| if a.abs() > best.abs() { a } else { best });
        if largest < 0.0 { -1.0 } else { 1.0 }
    }

    fn variance(values: impl Iterator<Item = f32>) -> f64 {
        let values: Vec<f64> = values.map(f64::from).collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n
    }

    #[test]
    fn pca_recovers_a_known_decomposition() {
        // 64 points whose coordinates along `latent` orthonormal axes are columns of a 64 × 64
        // Hadamard matrix (±1, zero mean, exactly orthogonal) scaled by distinct standard
        // deviations: the sample's principal axes are exactly those axes, the variances exactly
        // the squared deviations. Then offset, so the centring matters.
        let hadamard = |i: usize, j: usize| if (i & j).count_ones().is_multiple_of(2) { 1.0 } else { -1.0 };
        for (dim, latent) in [(12, 12), (784, 40), (784, 3), (3, 2), (2, 2)] {
            let deviations: Vec<f64> =
                (0..latent).map(|k| [6.0, 4.0][..].get(k).copied().unwrap_or(2.5 * 0.95f64.powi(k as i32))).collect();
            let axes = orthonormal_frame(dim, latent, dim as u64 + 7);
            let mut offset = noise(3);
            let offset: Vec<f64> = (0..dim).map(|_| 10.0 * offset()).collect();
            let coordinates = |i: usize, k: usize| deviations[k] * hadamard(i, k + 1);
            let points: Vec<f32> = (0..64)
                .flat_map(|i| {
                    let offset = &offset;
                    let axes = &axes;
                    (0..dim).map(move |d| (offset[d] + (0..latent).map(|k| coordinates(i, k) * axes[k][d]).sum::<f64>()) as f32)
                })
                .collect();
            let projected = pca_projection(&points, dim);
            assert_eq!(projected.len(), 128);
            for (component, expected_variance) in [(0, 36.0), (1, 16.0)] {
                let sign = sign_of(&axes[component]);
                for i in 0..64 {
                    let (got, want) = (f64::from(projected[2 * i + component]), sign * coordinates(i, component));
                    assert!(
                        (got - want).abs() < 1e-4,
                        "dim {dim} latent {latent} component {component} row {i}: {got} vs {want}"
                    );
                }
                let explained = variance(projected.iter().skip(component).step_by(2).copied());
                assert!((explained - expected_variance).abs() < 1e-4 * expected_variance, "dim {dim}: variance {explained}");
            }
            let mean = column_means(&points, dim);
            let (_, rounds) = principal_axes(&points, dim, &mean);
            assert!(rounds < MAX_ROUNDS / 2, "dim {dim} latent {latent}: {rounds} rounds");
        }
    }

    #[test]
    fn pca_agrees_with_the_covariance_eigenvectors() {
        // 80 "images" of 784 pixels: three patterns with spreads 3, 2 and 1 plus a little noise.
        let (n, dim) = (80, 784);
        let mut next = noise(99);
        let patterns: Vec<Vec<f64>> = (0..3).map(|_| (0..dim).map(|_| next()).collect()).collect();
        let points: Vec<f32> = (0..n)
            .flat_map(|_| {
                let weights = [3.0 * next(), 2.0 * next(), next()];
                let pixels: Vec<f32> = (0..dim)
                    .map(|d| (0.5 + (0..3).map(|p| weights[p] * patterns[p][d]).sum::<f64>() + 0.05 * next()) as f32)
                    .collect();
                pixels
            })
            .collect();
        // The brute-force way: the full covariance matrix, then power iteration with deflation.
        let rows: Vec<Vec<f64>> = points.chunks_exact(dim).map(|r| r.iter().map(|&v| f64::from(v)).collect()).collect();
        let mean: Vec<f64> = (0..dim).map(|d| rows.iter().map(|r| r[d]).sum::<f64>() / n as f64).collect();
        let mut covariance = vec![0.0f64; dim * dim];
        for row in &rows {
            for i in 0..dim {
                for j in 0..dim {
                    covariance[i * dim + j] += (row[i] - mean[i]) * (row[j] - mean[j]) / n as f64;
                }
            }
        }
        let power = |other: Option<&[f64]>| {
            let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + i as f64 / dim as f64).collect();
            for _ in 0..150 {
                if let Some(other) = other {
                    let dot: f64 = v.iter().zip(other).map(|(a, b)| a * b).sum();
                    v.iter_mut().zip(other).for_each(|(a, b)| *a -= dot * b);
                }
                let next: Vec<f64> = (0..dim).map(|i| (0..dim).map(|j| covariance[i * dim + j] * v[j]).sum()).collect();
                let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
                v = next.into_iter().map(|x| x / norm).collect();
            }
            v
        };
        let first = power(None);
        let second = power(Some(&first));
        let projected = pca_projection(&points, dim);
        for (component, axis) in [first, second].iter().enumerate() {
            let sign = sign_of(axis);
            let expected: Vec<f64> =
                rows.iter().map(|r| sign * (0..dim).map(|d| (r[d] - mean[d]) * axis[d]).sum::<f64>()).collect();
            let scale = expected.iter().fold(0.0f64, |m, e| m.max(e.abs()));
            for (i, want) in expected.iter().enumerate() {
                let got = f64::from(projected[2 * i + component]);
                assert!((got - want).abs() < 1e-4 * scale, "component {component} row {i}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn pca_handles_degenerate_input() {
        assert!(pca_projection(&[1.0, 2.0], 0).is_empty());
        assert!(pca_projection(&[], 3).is_empty());
        assert!(pca_projection(&[1.0, 2.0], 3).is_empty(), "no whole row");
        assert!(pca_2d(&[], 3).is_empty());
        assert_eq!(pca_projection(&[1.0, 2.0, 3.0], 3), vec![0.0, 0.0], "one row is its own mean");
        assert!(pca_projection(&[4.0; 30], 3).iter().all(|&v| v == 0.0), "constant rows");
        assert!(pca_2d(&[4.0; 30], 3).iter().all(|&v| v == 0.0));
        // One dimension: the centred values themselves, and no second component.
        assert_eq!(pca_projection(&[1.0, 3.0, 5.0], 1), vec![-2.0, 0.0, 0.0, 0.0, 2.0, 0.0]);
        // Points on a line through 784-d space: rank 1, so y is 0.
        let points: Vec<f32> = (0..10).flat_map(|i| (0..784).map(move |d| (i * (d % 7)) as f32)).collect();
        let projected = pca_projection(&points, 784);
        assert!(projected.iter().skip(1).step_by(2).all(|y| y.abs() < 1e-3), "{projected:?}");
        assert!(projected.iter().step_by(2).all(|x| x.is_finite()));
        // Isotropic noise has no best axes, but still gives a finite, repeatable answer.
        let mut next = noise(5);
        let noisy: Vec<f32> = (0..500 * 16).map(|_| next() as f32).collect();
        let projected = pca_projection(&noisy, 16);
        assert!(projected.iter().all(|v| v.is_finite()));
        assert_eq!(projected, pca_projection(&noisy, 16));
    }

    /// `cargo test --release -p model --lib -- --ignored timing --nocapture`: on the test images
    /// when public/data holds them, and on synthetic data.
    #[test]
    #[ignore = "timing, run in release"]
    fn timing_pca_projection() {
        use crate::data::{Manifest, inflate_shard};
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/data/fashion-mnist");
        let mut sets: Vec<(&str, Vec<f32>)> = Vec::new();
        if let Ok(json) = std::fs::read_to_string(data.join("manifest.json")) {
            let manifest = Manifest::from_json(&json).unwrap();
            let entry = &manifest.test[0];
            let images = inflate_shard(entry, &std::fs::read(data.join(&entry.file)).unwrap()).unwrap();
            sets.push(("Fashion-MNIST test pixels", images.pixels().iter().map(|&p| f32::from(p) / 255.0).collect()));
        }
        let mut next = noise(17);
        let patterns: Vec<Vec<f64>> = (0..20).map(|_| (0..784).map(|_| next()).collect()).collect();
        let low_rank: Vec<f32> = (0..10_000)
            .flat_map(|_| {
                let weights: Vec<f64> = (0..20).map(|p| next() * 0.8f64.powi(p)).collect();
                (0..784)
                    .map(|d| (0.5 + (0..20).map(|p| weights[p] * patterns[p][d]).sum::<f64>() + 0.1 * next()) as f32)
                    .collect::<Vec<_>>()
            })
            .collect();
        sets.push(("20 patterns + noise", low_rank));
        sets.push(("uniform noise (no clear axes)", (0..10_000 * 784).map(|_| next() as f32).collect()));
        for (name, points) in sets {
            // The best of three: the machine may be busy.
            let mut seconds = f64::INFINITY;
            let mut projected = Vec::new();
            for _ in 0..3 {
                let started = std::time::Instant::now();
                projected = pca_projection(&points, 784);
                seconds = seconds.min(started.elapsed().as_secs_f64());
            }
            let (_, rounds) = principal_axes(&points, 784, &column_means(&points, 784));
            let variances = [0, 1].map(|c| variance(projected.iter().skip(c).step_by(2).copied()));
            println!("pca_projection, 10000 x 784, {name}: {seconds:.3} s, {rounds} rounds, variances {variances:.3?}");
        }
    }

    #[test]
    fn quality_measures_match_hand_computed_cases() {
        // A map identical to the original space is perfectly trustworthy.
        // Growing gaps, so no two distances tie.
        let line: Vec<f32> = (0..20).flat_map(|i| [(i as f32).powf(1.3), 0.0]).collect();
        assert!((trustworthiness(&line, 2, &line, 3) - 1.0).abs() < 1e-12);
        // Reversing the order of half the points breaks neighbourhoods.
        let scrambled: Vec<f32> = (0..20).flat_map(|i| [((if i < 10 { 9 - i } else { i }) as f32 * 7.0) % 20.0, 0.0]).collect();
        assert!(trustworthiness(&line, 2, &scrambled, 3) < 0.9);
        // Four separate runs of 5 points, one label each: every 3-NN majority is right.
        let runs: Vec<f32> = (0..20).flat_map(|i| [(i + (i / 5) * 10) as f32, 0.0]).collect();
        let labels: Vec<u8> = (0..20).map(|i| (i / 5) as u8).collect();
        assert_eq!(knn_accuracy(&runs, 2, &labels, 3), 1.0);
        // Shuffled labels along the line: a map that ignores them scores low.
        let alternating: Vec<u8> = (0..20).map(|i| (i % 2) as u8).collect();
        assert!(knn_accuracy(&line, 2, &alternating, 2) < 0.2);
    }
}
