//! The IDX format of the MNIST family: a 4-byte magic number (two zero bytes, the element type,
//! the number of dimensions), one big-endian `u32` per dimension, then the raw elements.
//! Files may be gzip-compressed, as distributed.

use std::io::Read;

use flate2::read::GzDecoder;

use crate::images::{IMAGE_PIXELS, IMAGE_SIDE};

/// Unsigned byte elements, the only type Fashion-MNIST uses.
const UBYTE: u8 = 0x08;
const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The largest decompressed IDX file accepted: Fashion-MNIST's training images are 47 MB.
/// A bound stops a small malicious gzip stream from filling memory.
const MAX_DECOMPRESSED_BYTES: u64 = 64 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdxError {
    #[error("corrupt gzip stream: {0}")]
    Gzip(String),
    #[error("decompressed data exceeds {MAX_DECOMPRESSED_BYTES} bytes; not a Fashion-MNIST file")]
    TooLarge,
    #[error("{len} bytes is too short for the IDX header ({needed} bytes)")]
    TruncatedHeader { len: usize, needed: usize },
    #[error("magic number {found:#010x} is not {expected:#010x} (IDX {what})")]
    BadMagic { found: u32, expected: u32, what: &'static str },
    #[error("images are {rows}x{cols}, expected {IMAGE_SIDE}x{IMAGE_SIDE}")]
    BadDimensions { rows: u32, cols: u32 },
    #[error("header promises {expected} bytes of data, found {found}")]
    BadLength { expected: u64, found: u64 },
}

/// Parses an IDX image file (`idx3-ubyte`, 28x28) into the concatenated pixels and the image count.
pub fn parse_idx_images(bytes: &[u8]) -> Result<(Vec<u8>, usize), IdxError> {
    let raw = decompress_if_gzip(bytes)?;
    let (dims, body) = header(&raw, IMAGES_MAGIC, 3, "images")?;
    let [count, rows, cols] = [dims[0], dims[1], dims[2]];
    if rows as usize != IMAGE_SIDE || cols as usize != IMAGE_SIDE {
        return Err(IdxError::BadDimensions { rows, cols });
    }
    check_length(body, u64::from(count) * IMAGE_PIXELS as u64)?;
    Ok((body.to_vec(), count as usize))
}

/// Parses an IDX label file (`idx1-ubyte`) into one byte per label.
pub fn parse_idx_labels(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    let raw = decompress_if_gzip(bytes)?;
    let (dims, body) = header(&raw, LABELS_MAGIC, 1, "labels")?;
    check_length(body, u64::from(dims[0]))?;
    Ok(body.to_vec())
}

fn decompress_if_gzip(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, IdxError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes.into());
    }
    let mut raw = Vec::new();
    GzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| IdxError::Gzip(e.to_string()))?;
    if raw.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(IdxError::TooLarge);
    }
    Ok(raw.into())
}

/// Checks the magic number and splits the dimensions from the body.
fn header<'a>(
    raw: &'a [u8],
    magic: u32,
    rank: usize,
    what: &'static str,
) -> Result<(Vec<u32>, &'a [u8]), IdxError> {
    let needed = 4 + 4 * rank;
    let word = |i: usize| u32::from_be_bytes([raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3]]);
    if raw.len() < 4 {
        return Err(IdxError::TruncatedHeader { len: raw.len(), needed });
    }
    // The magic number first: a labels file offered as images should say so, not "too short".
    let found = word(0);
    debug_assert_eq!(magic.to_be_bytes()[2], UBYTE);
    if found != magic {
        return Err(IdxError::BadMagic { found, expected: magic, what });
    }
    if raw.len() < needed {
        return Err(IdxError::TruncatedHeader { len: raw.len(), needed });
    }
    Ok(((1..=rank).map(word).collect(), &raw[needed..]))
}

fn check_length(body: &[u8], expected: u64) -> Result<(), IdxError> {
    let found = body.len() as u64;
    if found != expected {
        return Err(IdxError::BadLength { expected, found });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// An IDX file built by hand: magic, dimensions, body.
    fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for d in dims {
            bytes.extend(d.to_be_bytes());
        }
        bytes.extend_from_slice(body);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn reads_images_raw_and_gzipped() {
        let body: Vec<u8> = (0..2 * IMAGE_PIXELS).map(|i| (i % 251) as u8).collect();
        let file = idx(IMAGES_MAGIC, &[2, 28, 28], &body);
        assert_eq!(parse_idx_images(&file), Ok((body.clone(), 2)));
        assert_eq!(parse_idx_images(&gzip(&file)), Ok((body, 2)));
    }

    #[test]
    fn reads_labels() {
        let file = idx(LABELS_MAGIC, &[3], &[9, 0, 4]);
        assert_eq!(parse_idx_labels(&gzip(&file)), Ok(vec![9, 0, 4]));
    }

    #[test]
    fn rejects_wrong_magic() {
        let labels = idx(LABELS_MAGIC, &[1], &[0]);
        assert!(matches!(parse_idx_images(&labels), Err(IdxError::BadMagic { found: LABELS_MAGIC, .. })));
        let images = idx(IMAGES_MAGIC, &[0, 28, 28], &[]);
        assert!(matches!(parse_idx_labels(&images), Err(IdxError::BadMagic { .. })));
    }

    #[test]
    fn rejects_truncated_files() {
        let file = idx(IMAGES_MAGIC, &[2, 28, 28], &vec![0; 2 * IMAGE_PIXELS]);
        assert_eq!(
            parse_idx_images(&file[..file.len() - 1]),
            Err(IdxError::BadLength { expected: 2 * IMAGE_PIXELS as u64, found: 2 * IMAGE_PIXELS as u64 - 1 })
        );
        assert_eq!(parse_idx_images(&file[..10]), Err(IdxError::TruncatedHeader { len: 10, needed: 16 }));
        let gz = gzip(&file);
        assert!(matches!(parse_idx_images(&gz[..gz.len() / 2]), Err(IdxError::Gzip(_))));
    }

    #[test]
    fn rejects_trailing_bytes() {
        let file = idx(LABELS_MAGIC, &[2], &[1, 2, 3]);
        assert_eq!(parse_idx_labels(&file), Err(IdxError::BadLength { expected: 2, found: 3 }));
    }

    #[test]
    fn rejects_wrong_dimensions() {
        let file = idx(IMAGES_MAGIC, &[1, 32, 32], &vec![0; 32 * 32]);
        assert_eq!(parse_idx_images(&file), Err(IdxError::BadDimensions { rows: 32, cols: 32 }));
    }

    #[test]
    fn huge_counts_do_not_allocate() {
        let file = idx(IMAGES_MAGIC, &[u32::MAX, 28, 28], &[0; 16]);
        assert!(matches!(parse_idx_images(&file), Err(IdxError::BadLength { .. })));
    }

    #[test]
    fn garbage_never_panics() {
        // A deterministic stream of pseudo-random byte strings, some with a valid-looking start.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..600 {
            let mut bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            if len % 3 == 0 && len >= 4 {
                bytes[..4].copy_from_slice(&IMAGES_MAGIC.to_be_bytes());
            } else if len % 3 == 1 && len >= 2 {
                bytes[..2].copy_from_slice(&GZIP_MAGIC);
            }
            assert!(parse_idx_images(&bytes).is_err());
            assert!(parse_idx_labels(&bytes).is_err());
        }
    }
}
