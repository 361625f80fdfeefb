//! The shard format the page fetches: `manifest.json` lists the test and train shards, each a
//! gzip stream of `images * 784` pixel bytes followed by `images` label bytes. The manifest gives
//! each file's byte length and SHA-256, so a truncated or corrupted download is caught before it
//! is decoded. Shards hold at most 10,000 images, so the page can start training once the test
//! shard and the first train shard are in.

use std::io::{Read, Write};

use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::images::{IMAGE_PIXELS, IMAGE_SIDE, LabeledImages};

pub const MANIFEST_FILE: &str = "manifest.json";
pub const MAX_SHARD_IMAGES: usize = 10_000;
/// The largest shard file a manifest may list: 10,000 images are 7.85 MB before compression,
/// and gzip adds well under 1% to incompressible data.
const MAX_SHARD_BYTES: usize = 16 << 20;
/// Deflate's largest expansion (1032:1): bounds what a gzip stream of a given length can hold.
const MAX_INFLATE_RATIO: usize = 1032;
const FORMAT: &str = "fmnist-shards/1";
const CLASSES: u8 = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Names this layout, so a page never misreads files written by another version.
    pub format: String,
    pub image_side: usize,
    pub test: Vec<ShardEntry>,
    pub train: Vec<ShardEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// File name, relative to the manifest.
    pub file: String,
    pub images: usize,
    /// Length of the file as stored (compressed).
    pub bytes: usize,
    /// Lower-case hex SHA-256 of the file as stored.
    pub sha256: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("manifest.json is not valid JSON for this page: {0}")]
    Json(String),
    #[error("manifest format is {found:?}, this page reads {FORMAT:?}")]
    Format { found: String },
    #[error("manifest is for {found}x{found} images, expected {IMAGE_SIDE}x{IMAGE_SIDE}")]
    ImageSide { found: usize },
    #[error("manifest lists no {0} shard")]
    Empty(&'static str),
    #[error("manifest entry {file:?} is invalid: {why}")]
    Entry { file: String, why: &'static str },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("{file}: {found} bytes arrived, the manifest says {expected} (truncated download?)")]
    Length { file: String, expected: usize, found: usize },
    #[error("{file}: SHA-256 does not match the manifest (corrupted file, or a stale manifest)")]
    Hash { file: String },
    #[error("{file}: corrupt gzip stream: {why}")]
    Gzip { file: String, why: String },
    #[error("{file}: holds {found} bytes of images and labels, expected {expected}")]
    Content { file: String, expected: usize, found: usize },
    #[error("{file}: label {label} is not a Fashion-MNIST class")]
    Label { file: String, label: u8 },
}

impl Manifest {
    /// Parses and checks a manifest, so a shard can trust its entry's sizes.
    pub fn from_json(json: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest =
            serde_json::from_str(json).map_err(|e| ManifestError::Json(e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(ManifestError::Format { found: manifest.format });
        }
        if manifest.image_side != IMAGE_SIDE {
            return Err(ManifestError::ImageSide { found: manifest.image_side });
        }
        for (name, shards) in [("test", &manifest.test), ("train", &manifest.train)] {
            if shards.is_empty() {
                return Err(ManifestError::Empty(name));
            }
            shards.iter().try_for_each(ShardEntry::check)?;
        }
        Ok(manifest)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serialises")
    }

    /// The first training shards that together hold `limit` images (all of them for `None`):
    /// what a run on the first `limit` images fetches.
    pub fn training_shards(&self, limit: Option<usize>) -> &[ShardEntry] {
        let Some(limit) = limit else { return &self.train };
        let mut images = 0usize;
        let count = self.train.iter().take_while(|entry| {
            let wanted = images < limit;
            images = images.saturating_add(entry.images);
            wanted
        });
        &self.train[..count.count()]
    }

    /// The shards' total size (saturating: a manifest built by hand may list absurd sizes).
    pub fn total_bytes(&self) -> usize {
        self.test.iter().chain(&self.train).fold(0, |total, s| total.saturating_add(s.bytes))
    }
}

impl ShardEntry {
    fn check(&self) -> Result<(), ManifestError> {
        let why = if self.images == 0 || self.images > MAX_SHARD_IMAGES {
            "image count must be 1 to 10,000"
        } else if self.bytes == 0 || self.bytes > MAX_SHARD_BYTES {
            "byte length must be 1 to 16 MiB"
        } else if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            "sha256 must be 64 hex digits"
        } else if self.file.is_empty() || self.file.contains(['/', '\\']) || self.file.starts_with('.') {
            "file must be a plain file name beside the manifest"
        } else {
            return Ok(());
        };
        Err(ManifestError::Entry { file: self.file.clone(), why })
    }

    /// Bytes of images and labels once decompressed (saturating: an entry built by hand may
    /// promise any number of images; no stream holds `usize::MAX` bytes).
    fn content_len(&self) -> usize {
        self.images.saturating_mul(IMAGE_PIXELS + 1)
    }
}

/// Encodes images as one shard file; returns the bytes to write.
pub fn encode_shard(images: &LabeledImages) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(images.pixels()).expect("writing to memory");
    encoder.write_all(images.labels()).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// Checks a downloaded shard against its manifest entry and decodes it.
pub fn decode_shard(entry: &ShardEntry, bytes: &[u8]) -> Result<LabeledImages, ShardError> {
    verify_shard(entry, bytes)?;
    inflate_shard(entry, bytes)
}

/// The download check: the file's length and SHA-256 are the manifest's.
pub fn verify_shard(entry: &ShardEntry, bytes: &[u8]) -> Result<(), ShardError> {
    if bytes.len() != entry.bytes {
        return Err(ShardError::Length { file: entry.file.clone(), expected: entry.bytes, found: bytes.len() });
    }
    if hex_sha256(bytes) != entry.sha256.to_ascii_lowercase() {
        return Err(ShardError::Hash { file: entry.file.clone() });
    }
    Ok(())
}

/// Decompresses a verified shard and checks its content (split from [`verify_shard`] so a page
/// can draw between the two).
pub fn inflate_shard(entry: &ShardEntry, bytes: &[u8]) -> Result<LabeledImages, ShardError> {
    let file = || entry.file.clone();
    let expected = entry.content_len();
    // Reserve what the entry promises, but no more than `bytes` can inflate to: a tiny file
    // whose entry promises 10,000 images does not get 7.85 MB.
    let mut content = Vec::with_capacity(expected.min(bytes.len().saturating_mul(MAX_INFLATE_RATIO)));
    GzDecoder::new(bytes)
        .take((expected as u64).saturating_add(1))
        .read_to_end(&mut content)
        .map_err(|e| ShardError::Gzip { file: file(), why: e.to_string() })?;
    if content.len() != expected {
        return Err(ShardError::Content { file: file(), expected, found: content.len() });
    }
    let labels = content.split_off(entry.images * IMAGE_PIXELS);
    if let Some(&label) = labels.iter().find(|&&l| l >= CLASSES) {
        return Err(ShardError::Label { file: file(), label });
    }
    Ok(LabeledImages::new(content, labels).expect("lengths checked above"))
}

/// Splits the test and train sets into shards; returns the manifest and each file's name and bytes.
pub fn write_shards(test: &LabeledImages, train: &LabeledImages) -> (Manifest, Vec<(String, Vec<u8>)>) {
    let mut files = Vec::new();
    let mut entries = |split: &str, images: &LabeledImages| -> Vec<ShardEntry> {
        let chunks = images.len().div_ceil(MAX_SHARD_IMAGES);
        (0..chunks)
            .map(|chunk| {
                let start = chunk * MAX_SHARD_IMAGES;
                let end = (start + MAX_SHARD_IMAGES).min(images.len());
                let shard = images.slice(start..end);
                let bytes = encode_shard(&shard);
                let entry = ShardEntry {
                    file: format!("{split}-{chunk:02}.bin.gz"),
                    images: shard.len(),
                    bytes: bytes.len(),
                    sha256: hex_sha256(&bytes),
                };
                files.push((entry.file.clone(), bytes));
                entry
            })
            .collect()
    };
    let test = entries("test", test);
    let train = entries("train", train);
    let manifest = Manifest { format: FORMAT.into(), image_side: IMAGE_SIDE, test, train };
    (manifest, files)
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(count: usize) -> LabeledImages {
        let pixels = (0..count * IMAGE_PIXELS).map(|i| (i * 7 % 256) as u8).collect();
        let labels = (0..count).map(|i| (i % 10) as u8).collect();
        LabeledImages::new(pixels, labels).unwrap()
    }

    #[test]
    fn a_limited_run_fetches_only_the_training_shards_it_uses() {
        let entry = |i: usize| ShardEntry { file: format!("train-{i:02}.bin.gz"), images: MAX_SHARD_IMAGES, bytes: 1, sha256: "0".repeat(64) };
        let manifest = Manifest { format: FORMAT.into(), image_side: IMAGE_SIDE, test: vec![entry(9)], train: (0..6).map(entry).collect() };
        let files = |limit| manifest.training_shards(limit).iter().map(|e| e.file.as_str()).collect::<Vec<_>>();
        assert_eq!(files(Some(2048)), ["train-00.bin.gz"]);
        assert_eq!(files(Some(10_000)), ["train-00.bin.gz"]);
        assert_eq!(files(Some(10_001)), ["train-00.bin.gz", "train-01.bin.gz"]);
        assert_eq!(files(Some(usize::MAX)).len(), 6);
        assert_eq!(files(None).len(), 6);
        assert!(files(Some(0)).is_empty());
    }

    #[test]
    fn shards_round_trip_through_the_manifest() {
        let (test, train) = (images(3), images(MAX_SHARD_IMAGES + 5));
        let (manifest, files) = write_shards(&test, &train);
        let manifest = Manifest::from_json(&manifest.to_json()).unwrap();
        assert_eq!(manifest.test.len(), 1);
        assert_eq!(manifest.train.iter().map(|s| s.images).collect::<Vec<_>>(), [MAX_SHARD_IMAGES, 5]);

        let decode_all = |entries: &[ShardEntry]| {
            let mut all = LabeledImages::default();
            for entry in entries {
                let (_, bytes) = files.iter().find(|(name, _)| *name == entry.file).unwrap();
                all.extend(&decode_shard(entry, bytes).unwrap());
            }
            all
        };
        assert_eq!(decode_all(&manifest.test), test);
        assert_eq!(decode_all(&manifest.train), train);
    }

    #[test]
    fn a_corrupted_shard_is_rejected_by_its_hash() {
        let (manifest, mut files) = write_shards(&images(4), &images(4));
        let bytes = &mut files[0].1;
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        assert_eq!(
            decode_shard(&manifest.test[0], bytes),
            Err(ShardError::Hash { file: "test-00.bin.gz".into() })
        );
    }

    #[test]
    fn a_truncated_shard_is_rejected_by_its_length() {
        let (manifest, files) = write_shards(&images(4), &images(4));
        let bytes = &files[1].1;
        assert!(matches!(
            decode_shard(&manifest.train[0], &bytes[..bytes.len() - 1]),
            Err(ShardError::Length { .. })
        ));
    }

    #[test]
    fn a_lying_manifest_entry_is_caught_after_the_hash() {
        // The hash matches (the manifest was made for these bytes) but the count is wrong.
        let (mut manifest, files) = write_shards(&images(4), &images(4));
        manifest.test[0].images = 5;
        assert!(matches!(decode_shard(&manifest.test[0], &files[0].1), Err(ShardError::Content { .. })));
    }

    #[test]
    fn bad_manifests_get_clear_errors() {
        let (manifest, _) = write_shards(&images(1), &images(1));
        assert!(matches!(Manifest::from_json("<html>404</html>"), Err(ManifestError::Json(_))));

        let mut other = manifest.clone();
        other.format = "something/2".into();
        assert!(matches!(Manifest::from_json(&other.to_json()), Err(ManifestError::Format { .. })));

        let mut other = manifest.clone();
        other.train[0].images = MAX_SHARD_IMAGES + 1;
        assert!(matches!(Manifest::from_json(&other.to_json()), Err(ManifestError::Entry { .. })));

        let mut other = manifest.clone();
        other.train[0].file = "../secret".into();
        assert!(matches!(Manifest::from_json(&other.to_json()), Err(ManifestError::Entry { .. })));

        let mut other = manifest;
        other.test.clear();
        assert_eq!(Manifest::from_json(&other.to_json()), Err(ManifestError::Empty("test")));
    }
}
