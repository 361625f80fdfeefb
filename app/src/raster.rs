//! Pixel buffers the charts put on their canvases in one call (pure: tested natively).

/// The map's dots as one RGBA image: ten thousand `fill_rect` calls, each with its colour passed
/// as a string, held the page's thread for tens of milliseconds on a phone; one pass over a
/// pixel buffer and one `put_image_data` take a few. Square dots of `side` device pixels on
/// white, drawn in the points' order (a later point covers an earlier one), as the chapter's
/// `plt.scatter` does.
pub struct Dots {
    pub width: usize,
    pub height: usize,
    pub side: usize,
}

impl Dots {
    pub fn paint(&self, places: impl Iterator<Item = (f32, f32)>, labels: &[u8], colors: &[(u8, u8, u8); 10]) -> Vec<u8> {
        let mut rgba = vec![255u8; self.width * self.height * 4];
        let half = self.side as f32 / 2.0;
        for ((x, y), &label) in places.zip(labels) {
            let (r, g, b) = colors[usize::from(label) % 10];
            let (columns, rows) = (self.span(x - half, self.width), self.span(y - half, self.height));
            for row in rows {
                let (start, end) = ((row * self.width + columns.start) * 4, (row * self.width + columns.end) * 4);
                for px in rgba[start..end].chunks_exact_mut(4) {
                    px.copy_from_slice(&[r, g, b, 255]);
                }
            }
        }
        rgba
    }

    /// The pixels a dot starting at `from` covers along an axis of `len` pixels (none when it
    /// lies outside).
    fn span(&self, from: f32, len: usize) -> std::ops::Range<usize> {
        let from = from.round();
        let start = from.clamp(0.0, len as f32) as usize;
        let end = (from + self.side as f32).clamp(0.0, len as f32) as usize;
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLORS: [(u8, u8, u8); 10] = [(10, 0, 0), (20, 0, 0), (30, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0)];

    fn red_at(rgba: &[u8], width: usize, x: usize, y: usize) -> u8 {
        rgba[(y * width + x) * 4]
    }

    #[test]
    fn dots_are_squares_in_their_class_colour_on_white_the_later_on_top() {
        let dots = Dots { width: 8, height: 6, side: 2 };
        let rgba = dots.paint([(2.0, 2.0), (3.0, 2.0)].into_iter(), &[0, 1], &COLORS);
        assert_eq!(rgba.len(), 8 * 6 * 4);
        assert_eq!(red_at(&rgba, 8, 1, 1), 10, "the first dot's left column");
        assert_eq!(red_at(&rgba, 8, 2, 1), 20, "covered by the second dot");
        assert_eq!(red_at(&rgba, 8, 3, 2), 20);
        assert_eq!(red_at(&rgba, 8, 4, 2), 255, "white beyond the dots");
        assert_eq!(red_at(&rgba, 8, 2, 3), 255);
        assert!(rgba.chunks_exact(4).all(|px| px[3] == 255), "opaque everywhere");
    }

    #[test]
    fn dots_at_the_edges_are_clipped_not_wrapped() {
        let dots = Dots { width: 4, height: 4, side: 3 };
        let rgba = dots.paint([(3.9, 3.9), (-5.0, 0.0), (100.0, 100.0)].into_iter(), &[2, 2, 2], &COLORS);
        assert_eq!(red_at(&rgba, 4, 3, 3), 30, "the corner dot drawn");
        assert_eq!(red_at(&rgba, 4, 0, 3), 255, "nothing wrapped to the next row's start");
        assert!(rgba[..4 * 4 * 2].chunks_exact(4).all(|px| px[0] == 255), "points off the canvas leave it white");
    }
}
