//! 2-D maps of the 32-d codes with t-SNE (the `bhtsne` crate), started from the codes'
//! PCA projection as scikit-learn does rather than at random: in the browser (one thread) the same
//! codes always give the same map; natively bhtsne's parallel sums may round differently. Also
//! the two measures of a map's quality: trustworthiness and k-NN label accuracy.

use bhtsne::tSNE;

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

/// The projection on the first two principal components, scaled so the first has standard
/// deviation 1e-4 (scikit-learn's t-SNE initialisation).
pub fn pca_2d(points: &[f32], dim: usize) -> Vec<f32> {
    let n = points.len() / dim;
    if n == 0 {
        return Vec::new();
    }
    let mut mean = vec![0.0f64; dim];
    for row in points.chunks_exact(dim) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += f64::from(v) / n as f64);
    }
    let mut covariance = vec![0.0f64; dim * dim];
    for row in points.chunks_exact(dim) {
        for i in 0..dim {
            let di = f64::from(row[i]) - mean[i];
            for j in 0..dim {
                covariance[i * dim + j] += di * (f64::from(row[j]) - mean[j]);
            }
        }
    }
    let first = top_eigenvector(&covariance, dim, None);
    let second = top_eigenvector(&covariance, dim, Some(&first));
    let mut projected: Vec<f32> = points
        .chunks_exact(dim)
        .flat_map(|row| {
            let centred = |axis: &[f64]| row.iter().zip(&mean).zip(axis).map(|((&v, m), a)| (f64::from(v) - m) * a).sum::<f64>();
            [centred(&first) as f32, centred(&second) as f32]
        })
        .collect();
    let std = (projected.iter().step_by(2).map(|&x| f64::from(x).powi(2)).sum::<f64>() / n as f64).sqrt();
    let scale = if std > 0.0 { (1e-4 / std) as f32 } else { 0.0 };
    projected.iter_mut().for_each(|v| *v *= scale);
    projected
}

/// Power iteration on a symmetric matrix, orthogonal to `other` if given.
fn top_eigenvector(matrix: &[f64], dim: usize, other: Option<&[f64]>) -> Vec<f64> {
    // A fixed, non-degenerate start keeps the result deterministic.
    let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + i as f64 / dim as f64).collect();
    for _ in 0..500 {
        if let Some(other) = other {
            let dot: f64 = v.iter().zip(other).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(other).for_each(|(a, b)| *a -= dot * b);
        }
        let next: Vec<f64> = (0..dim).map(|i| (0..dim).map(|j| matrix[i * dim + j] * v[j]).sum()).collect();
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        v = next.into_iter().map(|x| x / norm).collect();
    }
    v
}

/// Indices of the `k` nearest neighbours of each point (Euclidean, excluding itself).
fn nearest(points: &[f32], dim: usize, k: usize) -> Vec<Vec<usize>> {
    let rows: Vec<&[f32]> = points.chunks_exact(dim).collect();
    rows.iter()
        .enumerate()
        .map(|(i, a)| {
            let mut distances: Vec<(f32, usize)> =
                rows.iter().enumerate().filter(|&(j, _)| j != i).map(|(j, b)| (euclidean(a, b), j)).collect();
            let k = k.min(distances.len());
            if k > 0 {
                distances.select_nth_unstable_by(k - 1, |x, y| x.0.total_cmp(&y.0));
            }
            distances.truncate(k);
            distances.sort_by(|x, y| x.0.total_cmp(&y.0));
            distances.into_iter().map(|(_, j)| j).collect()
        })
        .collect()
}

/// Share of points whose label is the majority label of their `k` nearest neighbours in the map.
pub fn knn_accuracy(points: &[f32], dim: usize, labels: &[u8], k: usize) -> f64 {
    let neighbours = nearest(points, dim, k);
    let hits = neighbours
        .iter()
        .enumerate()
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
    let rows: Vec<&[f32]> = original.chunks_exact(dim).collect();
    let near_in_map = nearest(embedded, 2, k);
    let mut penalty = 0.0f64;
    for (i, near) in near_in_map.iter().enumerate() {
        // Rank (1 = nearest) of every point by its distance to i in the original space.
        let mut order: Vec<(f32, usize)> =
            rows.iter().enumerate().filter(|&(j, _)| j != i).map(|(j, b)| (euclidean(rows[i], b), j)).collect();
        order.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let mut rank = vec![0usize; n];
        order.iter().enumerate().for_each(|(r, &(_, j))| rank[j] = r + 1);
        penalty += near.iter().map(|&j| rank[j].saturating_sub(k) as f64).sum::<f64>();
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
