use serde::{Deserialize, Serialize};

/// Side of a Fashion-MNIST image in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in one image.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;

/// Images as raw `u8` pixels (row-major, `IMAGE_PIXELS` per image) with one label each.
///
/// Kept as bytes, not floats: a quarter of the memory, and shards append without conversion.
/// Serialised as two byte strings; reading checks they fit together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawImages")]
pub struct LabeledImages {
    #[serde(with = "serde_bytes")]
    pixels: Vec<u8>,
    #[serde(with = "serde_bytes")]
    labels: Vec<u8>,
}

/// [`LabeledImages`] as read, before the check.
#[derive(Deserialize)]
struct RawImages {
    #[serde(with = "serde_bytes")]
    pixels: Vec<u8>,
    #[serde(with = "serde_bytes")]
    labels: Vec<u8>,
}

impl TryFrom<RawImages> for LabeledImages {
    type Error = String;

    fn try_from(raw: RawImages) -> Result<Self, String> {
        let (pixels, labels) = (raw.pixels.len(), raw.labels.len());
        Self::new(raw.pixels, raw.labels).ok_or_else(|| format!("{pixels} pixels do not make {labels} images of {IMAGE_PIXELS}"))
    }
}

impl LabeledImages {
    /// Pairs pixels with labels; `None` unless there are exactly `IMAGE_PIXELS` pixels per label.
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>) -> Option<Self> {
        (pixels.len() == labels.len() * IMAGE_PIXELS).then_some(Self { pixels, labels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS]
    }

    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Images `range` as a new set; `range` is clamped to the images there are.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        Self {
            pixels: self.pixels[start * IMAGE_PIXELS..end * IMAGE_PIXELS].to_vec(),
            labels: self.labels[start..end].to_vec(),
        }
    }

    /// Appends another set, e.g. the next shard as it arrives.
    pub fn extend(&mut self, other: &LabeledImages) {
        self.pixels.extend_from_slice(&other.pixels);
        self.labels.extend_from_slice(&other.labels);
    }

    /// Images `indices` as floats scaled to [0, 1], row after row: one batch of network input.
    pub fn batch_pixels(&self, indices: &[usize]) -> Vec<f32> {
        let mut batch = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        for &index in indices {
            batch.extend(self.image(index).iter().map(|&p| f32::from(p) / 255.0));
        }
        batch
    }
}
