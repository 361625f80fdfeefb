//! Working in the code space with plain numbers: corruption levels for the noise slider, walking
//! the line between two codes, and placing a new code on an existing t-SNE map.

pub use protocol::Corruption;
pub use protocol::messages::Placement;

/// `steps` codes evenly spaced on the line from `a` to `b`, both ends included, one after the
/// other (`steps * a.len()` values). The decoder turns each into an image.
pub fn interpolate(a: &[f32], b: &[f32], steps: usize) -> Vec<f32> {
    assert_eq!(a.len(), b.len(), "codes of one model have one size");
    let last = steps.saturating_sub(1).max(1) as f32;
    (0..steps)
        .flat_map(|step| {
            let t = step as f32 / last;
            a.iter().zip(b).map(move |(&a, &b)| a + t * (b - a))
        })
        .collect()
}

/// Places `code` on the 2-D `map` of `codes` (`dim` values each) at the distance-weighted mean of
/// its `k` nearest codes' positions. t-SNE has no transform for new points; this is the usual
/// stand-in, and it puts a code where its neighbours in code space are.
pub fn place_on_map(codes: &[f32], dim: usize, map: &[f32], code: &[f32], k: usize) -> Option<Placement> {
    let count = (codes.len() / dim.max(1)).min(map.len() / 2);
    if dim == 0 || code.len() != dim || count == 0 || k == 0 {
        return None;
    }
    let mut nearest: Vec<(usize, f32)> = codes
        .chunks_exact(dim)
        .take(count)
        .map(|c| c.iter().zip(code).map(|(a, b)| (a - b).powi(2)).sum::<f32>().sqrt())
        .enumerate()
        .collect();
    let k = k.min(count);
    nearest.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1));
    nearest.truncate(k);
    nearest.sort_by(|a, b| a.1.total_cmp(&b.1));
    let weights: Vec<f32> = nearest.iter().map(|&(_, d)| 1.0 / (d + 1e-6)).collect();
    let total: f32 = weights.iter().sum();
    let (x, y) = nearest.iter().zip(&weights).fold((0.0, 0.0), |(x, y), (&(i, _), w)| {
        (x + w * map[2 * i], y + w * map[2 * i + 1])
    });
    Some(Placement { x: x / total, y: y / total, neighbours: nearest.into_iter().map(|(i, _)| i).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_runs_from_one_code_to_the_other() {
        let walk = interpolate(&[0.0, 2.0], &[4.0, 0.0], 5);
        assert_eq!(walk, vec![0.0, 2.0, 1.0, 1.5, 2.0, 1.0, 3.0, 0.5, 4.0, 0.0]);
        assert_eq!(interpolate(&[1.0], &[3.0], 1), vec![1.0]);
        assert!(interpolate(&[1.0], &[3.0], 0).is_empty());
    }

    #[test]
    fn a_code_lands_among_its_neighbours() {
        // Two clusters in code space, mapped to two far-apart spots.
        let codes = [0.0, 0.0, 0.1, 0.0, 10.0, 10.0, 10.1, 10.0];
        let map = [-5.0, -5.0, -5.0, -4.0, 5.0, 5.0, 5.0, 6.0];
        let placed = place_on_map(&codes, 2, &map, &[10.05, 10.0], 2).unwrap();
        assert_eq!(placed.neighbours.len(), 2);
        assert!(placed.neighbours.iter().all(|&i| i >= 2), "{placed:?}");
        assert!((placed.x - 5.0).abs() < 1e-3 && (5.0..=6.0).contains(&placed.y), "{placed:?}");
        // An exact match sits (almost) on its twin.
        let twin = place_on_map(&codes, 2, &map, &[0.0, 0.0], 1).unwrap();
        assert_eq!((twin.x, twin.y, twin.neighbours), (-5.0, -5.0, vec![0]));
    }

    #[test]
    fn placement_refuses_mismatched_input() {
        assert_eq!(place_on_map(&[0.0, 0.0], 2, &[0.0, 0.0], &[1.0], 3), None);
        assert_eq!(place_on_map(&[], 2, &[], &[1.0, 1.0], 3), None);
        assert_eq!(place_on_map(&[0.0, 0.0], 0, &[0.0, 0.0], &[], 3), None);
    }
}
