//! Nearest neighbours by Euclidean distance, in plain Rust: what the code keeps. Images whose
//! codes lie close together should look alike, and the share whose nearest other code has the
//! same class says how much of the class the 32 numbers keep without ever seeing a label. The
//! same measure on the raw pixels is the yardstick.
//!
//! Rows are row-major, `dim` values each; a trailing partial row is ignored. Distances are
//! compared squared (the same order, one square root fewer), and equal distances go to the
//! lower index, so every answer is deterministic.

/// The `k` rows nearest to row `query`, nearest first, never `query` itself; ties go to the
/// lower index. Fewer than `k` when there are fewer other rows; empty when `dim` is 0 or there
/// is no row `query`.
pub fn nearest_to(points: &[f32], dim: usize, query: usize, k: usize) -> Vec<usize> {
    if dim == 0 {
        return Vec::new();
    }
    let Some(target) = points.chunks_exact(dim).nth(query) else {
        return Vec::new();
    };
    let mut others: Vec<(f32, usize)> = points
        .chunks_exact(dim)
        .enumerate()
        .filter(|&(j, _)| j != query)
        .map(|(j, row)| (squared_distance(target, row), j))
        .collect();
    let k = k.min(others.len());
    if k == 0 {
        return Vec::new();
    }
    let closer = |a: &(f32, usize), b: &(f32, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    // Only the k nearest need sorting: partition around the k-th first.
    if k < others.len() {
        others.select_nth_unstable_by(k - 1, closer);
        others.truncate(k);
    }
    others.sort_unstable_by(closer);
    others.into_iter().map(|(_, j)| j).collect()
}

/// Leave-one-out 1-NN accuracy of the first `rows` rows among themselves: the share whose
/// nearest other row (as [`nearest_to`] ranks them) has the same label. The page reports it on
/// the first 2,000 test images, for the codes and for the raw pixels alike, so the two numbers
/// compare: how much of the class survives the squeeze to 32 numbers.
///
/// `rows` is clamped to the whole rows in `points` and to `labels.len()`; 0.0 when fewer than
/// two rows remain (or `dim` is 0), since no row then has a neighbour.
///
/// O(rows² × dim): each pair is measured once, for both of its rows, in blocks of rows that stay
/// in cache while the others stream past; 2,000 images of 784 pixels take about 0.1 s natively.
pub fn nearest_neighbour_accuracy(points: &[f32], dim: usize, labels: &[u8], rows: usize) -> f64 {
    if dim == 0 {
        return 0.0;
    }
    let rows: Vec<&[f32]> = points.chunks_exact(dim).take(rows.min(labels.len())).collect();
    let n = rows.len();
    if n < 2 {
        return 0.0;
    }
    // Each row's nearest so far. Candidates reach every row in increasing index order (the rows
    // before it as the blocks pass over it, then the rows after it), so keeping the first of
    // equal distances keeps the lowest index, as `nearest_to` does.
    let mut nearest: Vec<Option<(f32, usize)>> = vec![None; n];
    let offer = |slot: &mut Option<(f32, usize)>, distance: f32, j: usize| {
        if slot.is_none_or(|(best, _)| distance.total_cmp(&best).is_lt()) {
            *slot = Some((distance, j));
        }
    };
    const BLOCK: usize = 8;
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        for j in start + 1..n {
            for i in start..end.min(j) {
                let distance = squared_distance(rows[i], rows[j]);
                offer(&mut nearest[i], distance, j);
                offer(&mut nearest[j], distance, i);
            }
        }
    }
    let hits = nearest.iter().enumerate().filter(|&(i, near)| near.is_some_and(|(_, j)| labels[j] == labels[i])).count();
    hits as f64 / n as f64
}

/// ‖a − b‖², summed in 8 independent lanes: floating-point addition is not associative, so the
/// compiler may not vectorise one running sum, but it does vectorise 8.
pub(crate) fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    let mut lanes = [0.0f32; LANES];
    for (x, y) in a_chunks.zip(b_chunks) {
        for ((lane, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *lane += (x - y) * (x - y);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [0, 1).
    fn uniform(seed: u64) -> impl FnMut() -> f32 {
        let mut state = seed | 1;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    fn random_points(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut next = uniform(seed);
        (0..n * dim).map(|_| next()).collect()
    }

    /// Small integers: every squared distance is exact in f32 and f64, and many tie.
    fn grid_points(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut next = uniform(seed);
        (0..n * dim).map(|_| (next() * 3.0).floor()).collect()
    }

    fn labels_for(n: usize, seed: u64) -> Vec<u8> {
        let mut next = uniform(seed);
        (0..n).map(|_| (next() * 3.0) as u8).collect()
    }

    /// Plain f64 distance, for the brute-force answers.
    fn distance(points: &[f32], dim: usize, i: usize, j: usize) -> f64 {
        (0..dim).map(|d| (f64::from(points[i * dim + d]) - f64::from(points[j * dim + d])).powi(2)).sum::<f64>().sqrt()
    }

    /// All other rows sorted by (distance, index), the slow obvious way.
    fn brute_order(points: &[f32], dim: usize, query: usize) -> Vec<usize> {
        let n = points.len() / dim;
        let mut order: Vec<usize> = (0..n).filter(|&j| j != query).collect();
        order.sort_by(|&a, &b| distance(points, dim, query, a).total_cmp(&distance(points, dim, query, b)).then(a.cmp(&b)));
        order
    }

    fn brute_accuracy(points: &[f32], dim: usize, labels: &[u8], rows: usize) -> f64 {
        let mut hits = 0;
        for i in 0..rows {
            let mut best: Option<(f64, usize)> = None;
            for j in 0..rows {
                if j == i {
                    continue;
                }
                let d = distance(points, dim, i, j);
                if best.is_none_or(|(b, _)| d < b) {
                    best = Some((d, j));
                }
            }
            if labels[best.unwrap().1] == labels[i] {
                hits += 1;
            }
        }
        hits as f64 / rows as f64
    }

    #[test]
    fn nearest_to_matches_a_full_sort() {
        for (n, dim, seed) in [(2, 1, 1), (7, 3, 2), (40, 5, 3), (100, 17, 4), (60, 784, 5)] {
            for points in [random_points(n, dim, seed), grid_points(n, dim, seed)] {
                for query in [0, n / 2, n - 1] {
                    let order = brute_order(&points, dim, query);
                    for k in [0, 1, 3, n - 1, n + 5] {
                        let expected: Vec<usize> = order.iter().copied().take(k).collect();
                        assert_eq!(nearest_to(&points, dim, query, k), expected, "n {n} dim {dim} query {query} k {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn ties_go_to_the_lower_index_and_self_is_excluded() {
        // Row 2 is the query; rows 0, 4 and 5 are all at distance 1, row 3 duplicates it, row 1
        // is far.
        let points = [1.0, 0.0, 9.0, 9.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -1.0, 0.0];
        assert_eq!(nearest_to(&points, 2, 2, 5), vec![3, 0, 4, 5, 1]);
        assert_eq!(nearest_to(&points, 2, 2, 2), vec![3, 0]);
        // Duplicates of the query: each other's nearest, never themselves.
        assert_eq!(nearest_to(&points, 2, 3, 1), vec![2]);
        let same = [5.0f32; 4 * 3];
        assert_eq!(nearest_to(&same, 3, 1, 3), vec![0, 2, 3]);
    }

    #[test]
    fn nearest_to_handles_bad_input() {
        let points = random_points(5, 4, 9);
        assert!(nearest_to(&points, 0, 0, 3).is_empty());
        assert!(nearest_to(&[], 4, 0, 3).is_empty());
        assert!(nearest_to(&points, 4, 5, 3).is_empty(), "no row 5");
        assert!(nearest_to(&points[..4], 4, 0, 3).is_empty(), "one row has no neighbour");
        // A trailing partial row is not a row.
        assert_eq!(nearest_to(&points[..10], 4, 0, 9), vec![1]);
        assert_eq!(nearest_to(&points, 4, 0, 100).len(), 4);
    }

    #[test]
    fn accuracy_matches_a_brute_force_count() {
        for (n, dim, seed) in [(2, 1, 11), (3, 2, 12), (9, 4, 13), (30, 7, 14), (64, 32, 15), (75, 784, 16)] {
            let labels = labels_for(n, seed);
            for points in [random_points(n, dim, seed), grid_points(n, dim, seed)] {
                for rows in [2, n / 2, n] {
                    let rows = rows.max(2);
                    let expected = brute_accuracy(&points, dim, &labels, rows);
                    assert_eq!(nearest_neighbour_accuracy(&points, dim, &labels, rows), expected, "n {n} dim {dim} rows {rows}");
                }
            }
        }
    }

    #[test]
    fn accuracy_breaks_ties_like_nearest_to() {
        // On a line at 0, 1, 2 (rows 0, 2, 3; row 1 far off), row 2 is as close to row 0 as to
        // row 3 and must count row 0: the lower index.
        let points = [0.0, 50.0, 1.0, 2.0];
        assert_eq!(nearest_to(&points, 1, 2, 1), vec![0]);
        // Rows 0 and 2 share a label, 3 does not: rows 0 and 2 hit, 1 and 3 miss.
        assert_eq!(nearest_neighbour_accuracy(&points, 1, &[7, 9, 7, 8], 4), 0.5);
        // Row 2 labelled like row 3 instead: only row 3 (nearest: 2) hits.
        assert_eq!(nearest_neighbour_accuracy(&points, 1, &[7, 9, 8, 8], 4), 0.25);
        // The same across the blocks of 8 rows: row 20 is as close to row 3 as to row 17.
        let mut far: Vec<f32> = (0..24).map(|i| 1000.0 * (i + 1) as f32).collect();
        (far[3], far[17], far[20]) = (0.0, 2.0, 1.0);
        let mut labels = vec![0u8; 24];
        labels.iter_mut().enumerate().for_each(|(i, l)| *l = i as u8);
        labels[20] = labels[3];
        assert_eq!(nearest_to(&far, 1, 20, 1), vec![3]);
        // Rows 3 and 20 hit (each other's nearest); 17's nearest is 20, another label.
        assert_eq!(brute_accuracy(&far, 1, &labels, 24), 2.0 / 24.0);
        assert_eq!(nearest_neighbour_accuracy(&far, 1, &labels, 24), 2.0 / 24.0);
    }

    #[test]
    fn accuracy_clamps_and_handles_bad_input() {
        let points = grid_points(20, 3, 31);
        let labels = labels_for(20, 31);
        let all = brute_accuracy(&points, 3, &labels, 20);
        assert_eq!(nearest_neighbour_accuracy(&points, 3, &labels, 1000), all, "rows clamped to the points");
        let twelve = brute_accuracy(&points, 3, &labels, 12);
        assert_eq!(nearest_neighbour_accuracy(&points, 3, &labels[..12], 20), twelve, "rows clamped to the labels");
        assert_eq!(nearest_neighbour_accuracy(&points[..12 * 3 + 2], 3, &labels, 20), twelve, "partial row ignored");
        assert_eq!(nearest_neighbour_accuracy(&points, 0, &labels, 20), 0.0);
        assert_eq!(nearest_neighbour_accuracy(&[], 3, &labels, 20), 0.0);
        assert_eq!(nearest_neighbour_accuracy(&points, 3, &[], 20), 0.0);
        assert_eq!(nearest_neighbour_accuracy(&points, 3, &labels, 1), 0.0);
        assert_eq!(nearest_neighbour_accuracy(&points, 3, &labels, 0), 0.0);
        // Two rows: each is the other's nearest.
        assert_eq!(nearest_neighbour_accuracy(&points, 3, &[4, 4], 2), 1.0);
        assert_eq!(nearest_neighbour_accuracy(&points, 3, &[4, 5], 2), 0.0);
    }

    #[test]
    fn squared_distance_sums_every_coordinate() {
        for dim in [0usize, 1, 7, 8, 9, 16, 33, 784] {
            // Differences 1, 2, 3, 1, 2, 3, ...: every partial sum is a small, exact integer.
            let a: Vec<f32> = (0..dim).map(|i| i as f32 * 0.5).collect();
            let b: Vec<f32> = a.iter().enumerate().map(|(i, x)| x - (i % 3 + 1) as f32).collect();
            let expected = (0..dim).map(|i| (i % 3 + 1).pow(2)).sum::<usize>() as f32;
            assert_eq!(squared_distance(&a, &b), expected, "dim {dim}");
        }
    }

    /// `cargo test --release -p model --lib -- --ignored timing --nocapture`: on random data, and
    /// on the first 2,000 test images when public/data holds them (the page's yardstick).
    #[test]
    #[ignore = "timing, run in release"]
    fn timing_nearest_neighbour_accuracy() {
        let mut sets: Vec<(String, Vec<f32>, usize, Vec<u8>)> =
            [784, 32].map(|dim| (format!("random, dim {dim}"), random_points(2000, dim, 41), dim, labels_for(2000, 41))).into();
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/data/fashion-mnist");
        if let Ok(json) = std::fs::read_to_string(data.join("manifest.json")) {
            let entry = &crate::data::Manifest::from_json(&json).unwrap().test[0];
            let images = crate::data::inflate_shard(entry, &std::fs::read(data.join(&entry.file)).unwrap()).unwrap();
            let pixels = images.pixels().iter().map(|&p| f32::from(p) / 255.0).collect();
            sets.push(("test pixels".into(), pixels, 784, images.labels().to_vec()));
        }
        for (name, points, dim, labels) in sets {
            // The best of three: the machine may be busy.
            let mut seconds = f64::INFINITY;
            let mut accuracy = 0.0;
            for _ in 0..3 {
                let started = std::time::Instant::now();
                accuracy = nearest_neighbour_accuracy(&points, dim, &labels, 2000);
                seconds = seconds.min(started.elapsed().as_secs_f64());
            }
            println!("nearest_neighbour_accuracy, 2000 rows, {name}: {seconds:.3} s (accuracy {accuracy:.4})");
        }
    }
}
