//! Fuzzing on stable Rust: property tests that feed the parsers of untrusted input arbitrary
//! bytes and structure-aware mutations of valid files (bit flips, truncation, extension, header
//! length fields set to huge values, edited JSON headers).
//!
//! Targets: the IDX reader (plain and gzip), the shard manifest, the shard check and decoder, and
//! the `.safetensors` weights importer. Each must return `Ok` or a typed error, never panic; an
//! `Ok` must agree with a simple reference check of the input; and no call may allocate more than
//! its input can justify (a counting allocator measures the peak of every call).
//!
//! `PROPTEST_CASES` sets the number of cases for every target (run one target with a name
//! filter); without it each target runs the number in its `config(..)`, sized so the whole file
//! takes about a minute. See docs/fuzzing.md for long runs and what they found.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use model::burn::prelude::Device;
use model::data::{
    IMAGE_PIXELS, IdxError, LabeledImages, MAX_SHARD_IMAGES, Manifest, ShardEntry, decode_shard, encode_shard,
    inflate_shard, parse_idx_images, parse_idx_labels, verify_shard, write_shards,
};
use model::weights::{WeightsError, from_safetensors, to_safetensors};
use model::{AutoencoderConfig, Experiment};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use safetensors::{Dtype, SafeTensors};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// A counting allocator: the peak of live bytes allocated by this thread during one call.

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + delta);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as if old and new were both live for a moment (the worst case).
            track(new_size as isize);
            track(-(layout.size() as isize));
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the peak number of bytes it had allocated at once.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let result = f();
    let peak = PEAK.with(Cell::get) - start;
    (result, peak.max(0) as usize)
}

/// The largest output a deflate stream of `len` bytes can inflate to (1032:1, plus slack for
/// the smallest streams).
fn inflate_bound(len: usize) -> usize {
    len.saturating_mul(1032).saturating_add(64 << 10)
}

/// What the decoders may allocate besides their output: flate2's window and buffers, error
/// messages and the like.
const OVERHEAD: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Case counts and mutations shared by the targets.

/// `default` cases unless `PROPTEST_CASES` says otherwise. No failure files: every failure
/// found becomes a named regression test below.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// 32-bit values a length or count field is likely to break on.
fn special_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(27),
        Just(28),
        Just(29),
        Just(0x0000_0801),
        Just(0x0000_0803),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        Just(u32::MAX),
        Just(u32::MAX / IMAGE_PIXELS as u32 + 1),
        any::<u32>(),
    ]
}

/// 64-bit values a length or count field is likely to break on.
fn special_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(8),
        Just(100_000_000),
        Just(100_000_001),
        Just(1 << 32),
        Just(4 << 30),
        Just(1 << 40),
        Just(i64::MAX as u64),
        Just(u64::MAX),
        Just(u64::MAX - 7),
        Just(u64::MAX / 785 + 1),
        any::<u64>(),
        0u64..4096,
    ]
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: Index, bit: u8 },
    Set { at: Index, byte: u8 },
    Truncate { at: Index },
    Extend(Vec<u8>),
    Insert { at: Index, bytes: Vec<u8> },
    Remove { at: Index, len: usize },
    Duplicate { at: Index, len: usize },
    /// A big-endian `u32` at byte `4 * word` (IDX header fields).
    WordBe { word: usize, value: u32 },
    /// A little-endian `u64` at byte 0 (the safetensors header length).
    LengthLe(u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        3 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        2 => any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        1 => prop::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Extend),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..32)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Remove { at, len }),
        1 => (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        3 => (0usize..4, special_u32()).prop_map(|(word, value)| Mutation::WordBe { word, value }),
        2 => special_u64().prop_map(Mutation::LengthLe),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    let at = |index: &Index| if len == 0 { 0 } else { index.index(len) };
    match mutation {
        Mutation::Flip { at: i, bit } if len > 0 => bytes[at(i)] ^= 1 << bit,
        Mutation::Set { at: i, byte } if len > 0 => bytes[at(i)] = *byte,
        Mutation::Truncate { at: i } => bytes.truncate(at(i)),
        Mutation::Extend(more) => bytes.extend_from_slice(more),
        Mutation::Insert { at: i, bytes: more } => {
            let i = at(i);
            bytes.splice(i..i, more.iter().copied());
        }
        Mutation::Remove { at: i, len: n } => {
            let i = at(i);
            bytes.drain(i..(i + n).min(len));
        }
        Mutation::Duplicate { at: i, len: n } => {
            let i = at(i);
            let copy = bytes[i..(i + n).min(len)].to_vec();
            bytes.splice(i..i, copy);
        }
        Mutation::WordBe { word, value } if len >= 4 * word + 4 => {
            bytes[4 * word..4 * word + 4].copy_from_slice(&value.to_be_bytes());
        }
        Mutation::LengthLe(value) if len >= 8 => bytes[..8].copy_from_slice(&value.to_le_bytes()),
        _ => {}
    }
}

fn mutated(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        apply(&mut bytes, m);
    }
    bytes
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 0..6)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// IDX

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const IDX_LIMIT: u64 = 64 << 20;

fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend_from_slice(body);
    bytes
}

/// The reference reading of a possibly-gzipped file: `None` where the gzip stream is unreadable
/// or too large.
fn idx_raw(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(bytes.to_vec());
    }
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(bytes).take(IDX_LIMIT + 1).read_to_end(&mut raw).ok()?;
    (raw.len() as u64 <= IDX_LIMIT).then_some(raw)
}

fn word(raw: &[u8], i: usize) -> u32 {
    u32::from_be_bytes(raw[4 * i..4 * i + 4].try_into().unwrap())
}

fn idx_peak_bound(bytes: &[u8]) -> usize {
    let gzipped = bytes.starts_with(&[0x1f, 0x8b]);
    let data = if gzipped { inflate_bound(bytes.len()).min(IDX_LIMIT as usize + 1) } else { bytes.len() };
    // Decompressing (a growing Vec: up to twice its length while it grows), then the copy out.
    3 * data + OVERHEAD
}

fn check_images(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (result, peak) = measure(|| parse_idx_images(bytes));
    prop_assert!(peak <= idx_peak_bound(bytes), "parse_idx_images allocated {peak} bytes for {} input bytes", bytes.len());
    let expected_ok = idx_raw(bytes).and_then(|raw| {
        let ok = raw.len() >= 16
            && word(&raw, 0) == IMAGES_MAGIC
            && word(&raw, 2) == 28
            && word(&raw, 3) == 28
            && (raw.len() - 16) as u64 == u64::from(word(&raw, 1)) * IMAGE_PIXELS as u64;
        ok.then(|| (raw[16..].to_vec(), word(&raw, 1) as usize))
    });
    match result {
        Ok((pixels, count)) => {
            prop_assert_eq!(pixels.len(), count * IMAGE_PIXELS);
            prop_assert_eq!(Some((pixels, count)), expected_ok);
        }
        Err(e) => {
            prop_assert!(expected_ok.is_none(), "rejected a valid file: {e}");
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

fn check_labels(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (result, peak) = measure(|| parse_idx_labels(bytes));
    prop_assert!(peak <= idx_peak_bound(bytes), "parse_idx_labels allocated {peak} bytes for {} input bytes", bytes.len());
    let expected_ok = idx_raw(bytes).and_then(|raw| {
        let ok = raw.len() >= 8 && word(&raw, 0) == LABELS_MAGIC && (raw.len() - 8) as u64 == u64::from(word(&raw, 1));
        ok.then(|| raw[8..].to_vec())
    });
    match result {
        Ok(labels) => prop_assert_eq!(Some(labels), expected_ok),
        Err(e) => {
            prop_assert!(expected_ok.is_none(), "rejected a valid file: {e}");
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

/// Bytes that may start like an IDX or gzip file.
fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(any::<u8>(), 0..2048), 0u8..4).prop_map(|(mut bytes, prefix)| {
        let start: &[u8] = match prefix {
            0 => &IMAGES_MAGIC.to_be_bytes(),
            1 => &LABELS_MAGIC.to_be_bytes(),
            2 => &[0x1f, 0x8b, 8],
            _ => &[],
        };
        bytes.splice(0..0, start.iter().copied());
        bytes
    })
}

/// How a mutated IDX file is offered: as is, gzipped after mutating (the IDX structure is
/// damaged, the gzip stream is fine), or mutated after gzipping (the gzip stream is damaged).
#[derive(Clone, Copy, Debug)]
enum Wrap {
    Plain,
    GzipThenMutate,
    MutateThenGzip,
}

fn wrap() -> impl Strategy<Value = Wrap> {
    prop_oneof![2 => Just(Wrap::Plain), 1 => Just(Wrap::GzipThenMutate), 1 => Just(Wrap::MutateThenGzip)]
}

fn wrapped(file: Vec<u8>, wrap: Wrap, mutations: &[Mutation]) -> Vec<u8> {
    match wrap {
        Wrap::Plain => mutated(file, mutations),
        Wrap::GzipThenMutate => mutated(gzip(&file), mutations),
        Wrap::MutateThenGzip => gzip(&mutated(file, mutations)),
    }
}

fn images_file() -> impl Strategy<Value = Vec<u8>> {
    (0usize..4)
        .prop_flat_map(|count| prop::collection::vec(any::<u8>(), count * IMAGE_PIXELS))
        .prop_map(|body| idx(IMAGES_MAGIC, &[(body.len() / IMAGE_PIXELS) as u32, 28, 28], &body))
}

fn labels_file() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..64).prop_map(|body| idx(LABELS_MAGIC, &[body.len() as u32], &body))
}

proptest! {
    #![proptest_config(config(100_000))]

    #[test]
    fn idx_arbitrary_bytes(bytes in arbitrary_bytes()) {
        check_images(&bytes)?;
        check_labels(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(40_000))]

    #[test]
    fn idx_images_mutated(file in images_file(), wrap in wrap(), mutations in mutations()) {
        check_images(&wrapped(file, wrap, &mutations))?;
    }
}

proptest! {
    #![proptest_config(config(100_000))]

    #[test]
    fn idx_labels_mutated(file in labels_file(), wrap in wrap(), mutations in mutations()) {
        check_labels(&wrapped(file, wrap, &mutations))?;
    }
}

// ---------------------------------------------------------------------------------------------
// Shards

/// 1 to 3 images with random pixels; labels mostly valid.
fn images() -> impl Strategy<Value = LabeledImages> {
    (1usize..4)
        .prop_flat_map(|count| {
            (
                prop::collection::vec(any::<u8>(), count * IMAGE_PIXELS),
                prop::collection::vec(prop_oneof![9 => 0u8..10, 1 => any::<u8>()], count),
            )
        })
        .prop_map(|(pixels, labels)| LabeledImages::new(pixels, labels).unwrap())
}

/// A size field relative to the right value: mostly right, sometimes off by one or absurd (an
/// entry built by hand, or taken from a manifest that was not checked).
#[derive(Clone, Debug)]
enum Size {
    Right,
    Less,
    More,
    Value(usize),
}

impl Size {
    fn of(&self, right: usize) -> usize {
        match self {
            Size::Right => right,
            Size::Less => right.saturating_sub(1),
            Size::More => right + 1,
            Size::Value(v) => *v,
        }
    }
}

fn size() -> impl Strategy<Value = Size> {
    prop_oneof![
        8 => Just(Size::Right),
        1 => Just(Size::Less),
        1 => Just(Size::More),
        4 => prop_oneof![
            Just(0usize),
            Just(MAX_SHARD_IMAGES),
            Just(MAX_SHARD_IMAGES + 1),
            Just(usize::MAX),
            Just(usize::MAX / (IMAGE_PIXELS + 1) + 1),
            Just(usize::MAX / IMAGE_PIXELS + 1),
            any::<usize>(),
        ]
        .prop_map(Size::Value),
    ]
}

/// How the manifest's hash relates to the (mutated) bytes.
#[derive(Clone, Debug)]
enum Hash {
    /// The hash of the bytes as mutated: the manifest was made for them (reaches the decoder).
    OfMutated,
    OfMutatedUpper,
    /// The hash of the valid file: the download was damaged.
    OfOriginal,
    Other(String),
}

fn hash() -> impl Strategy<Value = Hash> {
    prop_oneof![
        6 => Just(Hash::OfMutated),
        1 => Just(Hash::OfMutatedUpper),
        2 => Just(Hash::OfOriginal),
        1 => "[0-9a-fA-F]{64}|.{0,70}".prop_map(Hash::Other),
    ]
}

/// The reference decoding: the gzip stream's content if it is exactly `images` images with
/// valid labels.
fn shard_reference(images: usize, bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let expected = images.checked_mul(IMAGE_PIXELS + 1)?;
    let mut content = Vec::new();
    flate2::read::GzDecoder::new(bytes).take(expected as u64 + 1).read_to_end(&mut content).ok()?;
    if content.len() != expected {
        return None;
    }
    let labels = content.split_off(images * IMAGE_PIXELS);
    labels.iter().all(|&l| l < 10).then_some((content, labels))
}

fn check_shard(entry: &ShardEntry, bytes: &[u8]) -> Result<(), TestCaseError> {
    let verified = verify_shard(entry, bytes);
    let expect_verified = bytes.len() == entry.bytes && hex_sha256(bytes) == entry.sha256.to_ascii_lowercase();
    prop_assert_eq!(verified.is_ok(), expect_verified, "{:?}", verified);

    let (inflated, peak) = measure(|| inflate_shard(entry, bytes));
    let expected_len = entry.images.saturating_mul(IMAGE_PIXELS + 1).saturating_add(1);
    let bound = 3 * expected_len.min(inflate_bound(bytes.len())) + OVERHEAD;
    prop_assert!(peak <= bound, "inflate_shard allocated {peak} bytes for {} input bytes ({} images)", bytes.len(), entry.images);
    let reference = shard_reference(entry.images, bytes);
    match &inflated {
        Ok(images) => {
            prop_assert_eq!(images.len(), entry.images);
            prop_assert_eq!(images.pixels().len(), entry.images * IMAGE_PIXELS);
            prop_assert_eq!(Some((images.pixels().to_vec(), images.labels().to_vec())), reference);
        }
        Err(e) => {
            prop_assert!(reference.is_none(), "rejected a valid shard: {e}");
            prop_assert!(!e.to_string().is_empty());
        }
    }

    let decoded = decode_shard(entry, bytes);
    match (&verified, &inflated) {
        (Ok(()), Ok(images)) => prop_assert_eq!(decoded.as_ref().ok(), Some(images)),
        _ => prop_assert!(decoded.is_err()),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(40_000))]

    #[test]
    fn shard_mutated(
        images in images(),
        mutations in mutations(),
        hash in hash(),
        images_field in size(),
        bytes_field in size(),
    ) {
        let valid = encode_shard(&images);
        let bytes = mutated(valid.clone(), &mutations);
        let sha256 = match hash {
            Hash::OfMutated => hex_sha256(&bytes),
            Hash::OfMutatedUpper => hex_sha256(&bytes).to_uppercase(),
            Hash::OfOriginal => hex_sha256(&valid),
            Hash::Other(other) => other,
        };
        let entry = ShardEntry {
            file: "train-00.bin.gz".into(),
            images: images_field.of(images.len()),
            bytes: bytes_field.of(bytes.len()),
            sha256,
        };
        check_shard(&entry, &bytes)?;
    }
}

proptest! {
    #![proptest_config(config(50_000))]

    #[test]
    fn shard_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        images in prop_oneof![1usize..4, Just(MAX_SHARD_IMAGES), Just(usize::MAX)],
    ) {
        let entry = ShardEntry { file: "test-00.bin.gz".into(), images, bytes: bytes.len(), sha256: hex_sha256(&bytes) };
        check_shard(&entry, &bytes)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The manifest

const FORMAT: &str = "fmnist-shards/1";

fn valid_manifest() -> &'static Manifest {
    static MANIFEST: OnceLock<Manifest> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        let one = |label: u8| LabeledImages::new(vec![label; IMAGE_PIXELS], vec![label]).unwrap();
        let mut train = one(1);
        train.extend(&one(2));
        write_shards(&one(0), &train).0
    })
}

fn check_manifest(json: &str) -> Result<(), TestCaseError> {
    let (result, peak) = measure(|| Manifest::from_json(json));
    // serde_json builds the strings and lists it reads: a few times the text at most.
    prop_assert!(peak <= 16 * json.len() + OVERHEAD, "Manifest::from_json allocated {peak} bytes for {} bytes", json.len());
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(e) => {
            prop_assert!(!e.to_string().is_empty());
            return Ok(());
        }
    };
    prop_assert_eq!(&manifest.format, FORMAT);
    prop_assert_eq!(manifest.image_side, 28);
    prop_assert!(!manifest.test.is_empty() && !manifest.train.is_empty());
    for entry in manifest.test.iter().chain(&manifest.train) {
        prop_assert!((1..=MAX_SHARD_IMAGES).contains(&entry.images), "{entry:?}");
        prop_assert!((1..=16 << 20).contains(&entry.bytes), "{entry:?}");
        prop_assert!(entry.sha256.len() == 64 && entry.sha256.bytes().all(|b| b.is_ascii_hexdigit()), "{entry:?}");
        prop_assert!(!entry.file.is_empty() && !entry.file.contains(['/', '\\']) && !entry.file.starts_with('.'), "{entry:?}");
    }
    let total: u128 = manifest.test.iter().chain(&manifest.train).map(|e| e.bytes as u128).sum();
    prop_assert_eq!(manifest.total_bytes() as u128, total.min(usize::MAX as u128));
    prop_assert_eq!(Manifest::from_json(&manifest.to_json()), Ok(manifest));
    Ok(())
}

/// A JSON value of any type.
fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        special_u64().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,16}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        Just(json!([1, "two", null])),
    ]
}

/// A field's value: mostly one of `valid`'s, sometimes anything.
fn field<S: Strategy>(valid: S) -> impl Strategy<Value = Value>
where
    S::Value: Into<Value>,
{
    prop_oneof![30 => valid.prop_map(Into::into), 1 => json_leaf()]
}

fn file_name() -> impl Strategy<Value = String> {
    prop_oneof![
        30 => "(test|train)-[0-9]{2}\\.bin\\.gz",
        1 => Just("../secret".to_string()),
        1 => Just(String::new()),
        1 => Just(".hidden".to_string()),
        1 => Just("a\\b".to_string()),
        1 => "\\PC{0,12}",
    ]
}

fn sha256() -> impl Strategy<Value = String> {
    prop_oneof![
        30 => "[0-9a-f]{64}",
        1 => "[0-9A-F]{64}",
        1 => "[0-9a-g]{63,65}",
        1 => "é{32}",
        1 => "\\PC{0,64}",
    ]
}

fn entry_json() -> impl Strategy<Value = Value> {
    (
        field(file_name()),
        field(prop_oneof![20 => 1u64..=MAX_SHARD_IMAGES as u64, 1 => special_u64()]),
        field(prop_oneof![2 => 18u64..10_000_000, 1 => special_u64()]),
        field(sha256()),
        0u8..40,
    )
        .prop_map(|(file, images, bytes, sha256, drop)| {
            let mut entry = json!({ "file": file, "images": images, "bytes": bytes, "sha256": sha256 });
            let object = entry.as_object_mut().unwrap();
            match drop {
                0 => drop_key(object, "file"),
                1 => drop_key(object, "bytes"),
                2 => {
                    object.insert("extra".into(), json!(1));
                }
                _ => {}
            }
            entry
        })
}

fn drop_key(object: &mut serde_json::Map<String, Value>, key: &str) {
    object.remove(key);
}

fn manifest_json() -> impl Strategy<Value = String> {
    (
        field(prop_oneof![30 => Just(FORMAT.to_string()), 1 => ".{0,20}"]),
        field(prop_oneof![30 => Just(28u64), 1 => special_u64()]),
        prop::collection::vec(entry_json(), 0..3),
        prop::collection::vec(entry_json(), 0..5),
        any::<bool>(),
    )
        .prop_map(|(format, image_side, test, train, pretty)| {
            let manifest = json!({ "format": format, "image_side": image_side, "test": test, "train": train });
            if pretty { serde_json::to_string_pretty(&manifest).unwrap() } else { manifest.to_string() }
        })
}

proptest! {
    #![proptest_config(config(100_000))]

    #[test]
    fn manifest_arbitrary_text(json in prop_oneof![".*", "[\\[\\]{}:,\" 0-9a-z_./-]{0,200}"]) {
        check_manifest(&json)?;
    }
}

proptest! {
    #![proptest_config(config(100_000))]

    #[test]
    fn manifest_mutated_bytes(mutations in prop::collection::vec(mutation(), 1..6)) {
        let bytes = mutated(valid_manifest().to_json().into_bytes(), &mutations);
        check_manifest(&String::from_utf8_lossy(&bytes))?;
    }
}

proptest! {
    #![proptest_config(config(40_000))]

    #[test]
    fn manifest_mutated_fields(json in manifest_json()) {
        check_manifest(&json)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The weights importer

/// A model configuration with a valid file of its weights (from the crate's own export) and the
/// tensors the file holds.
struct Weights {
    config: AutoencoderConfig,
    file: Vec<u8>,
    shapes: BTreeMap<String, Vec<usize>>,
}

impl Weights {
    fn new(config: AutoencoderConfig) -> Self {
        let model = config.init(&Device::flex());
        let file = block_on(to_safetensors(&model, &config, HashMap::new())).unwrap();
        let parsed = SafeTensors::deserialize(&file).unwrap();
        let shapes = parsed.tensors().into_iter().map(|(name, view)| (name, view.shape().to_vec())).collect();
        Self { config, file, shapes }
    }

    fn parameter_bytes(&self) -> usize {
        self.shapes.values().map(|shape| 4 * shape.iter().product::<usize>()).sum()
    }
}

/// Small models (mutations land in a file of about 1.5 kB), tied and not.
fn small_weights() -> &'static [Weights; 2] {
    static SMALL: OnceLock<[Weights; 2]> = OnceLock::new();
    SMALL.get_or_init(|| {
        let config = || AutoencoderConfig::new().with_layer_sizes(vec![12, 6, 3]);
        [Weights::new(config()), Weights::new(config().with_tied(true))]
    })
}

/// The chapter's stacked autoencoder (a 0.9 MB file).
fn stacked_weights() -> &'static Weights {
    static STACKED: OnceLock<Weights> = OnceLock::new();
    STACKED.get_or_init(|| Weights::new(AutoencoderConfig::of(Experiment::Stacked)))
}

/// The reference check: the file parses, holds exactly the model's tensors, each F32 with the
/// model's shape and finite values.
fn weights_acceptable(weights: &Weights, bytes: &[u8]) -> bool {
    let Ok(file) = SafeTensors::deserialize(bytes) else { return false };
    let tensors = file.tensors();
    tensors.len() == weights.shapes.len()
        && tensors.iter().all(|(name, view)| {
            weights.shapes.get(name).is_some_and(|shape| shape == view.shape())
                && view.dtype() == Dtype::F32
                && view.data().chunks_exact(4).all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_finite())
        })
}

fn check_weights(weights: &Weights, bytes: &[u8]) -> Result<(), TestCaseError> {
    let device = Device::flex();
    let (result, peak) = measure(|| from_safetensors(&weights.config, bytes, &device));
    let bound = 4 * bytes.len() + 16 * weights.parameter_bytes() + OVERHEAD;
    prop_assert!(peak <= bound, "from_safetensors allocated {peak} bytes for {} input bytes", bytes.len());
    let acceptable = weights_acceptable(weights, bytes);
    match result {
        Ok(model) => {
            prop_assert!(acceptable, "accepted a file the reference check rejects");
            // The model holds exactly the file's numbers.
            let again = block_on(to_safetensors(&model, &weights.config, HashMap::new())).unwrap();
            let (input, output) = (SafeTensors::deserialize(bytes).unwrap(), SafeTensors::deserialize(&again).unwrap());
            for name in weights.shapes.keys() {
                let values = |file: &SafeTensors| -> Vec<f32> {
                    file.tensor(name).unwrap().data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
                };
                prop_assert_eq!(values(&input), values(&output), "{}", name);
            }
        }
        Err(e) => {
            prop_assert!(!acceptable, "rejected a valid file: {e}");
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

/// Splits a safetensors file into its JSON header and data.
fn split(file: &[u8]) -> (serde_json::Map<String, Value>, &[u8]) {
    let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    (serde_json::from_slice(&file[8..8 + n]).unwrap(), &file[8 + n..])
}

fn join(header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header);
    file.extend_from_slice(data);
    file
}

#[derive(Clone, Debug)]
enum HeaderEdit {
    Dtype(Index, String),
    Shape(Index, Vec<u64>),
    Offsets(Index, u64, u64),
    Rename(Index, String),
    Remove(Index),
    Add(String, Value),
    Replace(Index, Value),
    Metadata(Value),
}

fn header_edit() -> impl Strategy<Value = HeaderEdit> {
    let dtype = prop_oneof![
        Just("F32"), Just("F64"), Just("F16"), Just("BF16"), Just("U8"), Just("I32"), Just("BOOL"), Just("F4"), Just("f32"), Just("??"),
    ]
    .prop_map(String::from);
    let dim = prop_oneof![4 => 0u64..16, 1 => special_u64(), 1 => Just(usize::MAX as u64 / 4 + 1)];
    let name = prop_oneof![
        Just("encoder.0.kernel".to_string()),
        Just("decoder.1.bias".to_string()),
        Just("decoder.0.kernel".to_string()),
        Just("__metadata__".to_string()),
        "\\PC{0,12}",
    ];
    prop_oneof![
        2 => (any::<Index>(), dtype).prop_map(|(i, d)| HeaderEdit::Dtype(i, d)),
        2 => (any::<Index>(), prop::collection::vec(dim, 0..4)).prop_map(|(i, s)| HeaderEdit::Shape(i, s)),
        2 => (any::<Index>(), special_u64(), special_u64()).prop_map(|(i, s, e)| HeaderEdit::Offsets(i, s, e)),
        1 => (any::<Index>(), name.clone()).prop_map(|(i, n)| HeaderEdit::Rename(i, n)),
        1 => any::<Index>().prop_map(HeaderEdit::Remove),
        1 => (name, json_leaf()).prop_map(|(n, v)| HeaderEdit::Add(n, v)),
        1 => (any::<Index>(), json_leaf()).prop_map(|(i, v)| HeaderEdit::Replace(i, v)),
        1 => json_leaf().prop_map(HeaderEdit::Metadata),
    ]
}

fn edit(header: &mut serde_json::Map<String, Value>, edit: &HeaderEdit) {
    let keys: Vec<String> = header.keys().filter(|k| *k != "__metadata__").cloned().collect();
    let key = |i: &Index| (!keys.is_empty()).then(|| keys[i.index(keys.len())].clone());
    let tensor = |header: &mut serde_json::Map<String, Value>, i: &Index| -> Option<serde_json::Map<String, Value>> {
        header.get(&key(i)?)?.as_object().cloned()
    };
    match edit {
        HeaderEdit::Dtype(i, dtype) => {
            if let Some(mut t) = tensor(header, i) {
                t.insert("dtype".into(), json!(dtype));
                header.insert(key(i).unwrap(), Value::Object(t));
            }
        }
        HeaderEdit::Shape(i, shape) => {
            if let Some(mut t) = tensor(header, i) {
                t.insert("shape".into(), json!(shape));
                header.insert(key(i).unwrap(), Value::Object(t));
            }
        }
        HeaderEdit::Offsets(i, start, end) => {
            if let Some(mut t) = tensor(header, i) {
                t.insert("data_offsets".into(), json!([start, end]));
                header.insert(key(i).unwrap(), Value::Object(t));
            }
        }
        HeaderEdit::Rename(i, name) => {
            if let Some(k) = key(i) {
                let value = header.remove(&k).unwrap();
                header.insert(name.clone(), value);
            }
        }
        HeaderEdit::Remove(i) => {
            if let Some(k) = key(i) {
                header.remove(&k);
            }
        }
        HeaderEdit::Add(name, value) => {
            header.insert(name.clone(), json!({ "dtype": "F32", "shape": [1], "data_offsets": value }));
        }
        HeaderEdit::Replace(i, value) => {
            if let Some(k) = key(i) {
                header.insert(k, value.clone());
            }
        }
        HeaderEdit::Metadata(value) => {
            header.insert("__metadata__".into(), value.clone());
        }
    }
}

/// A special `f32` written over one value of the data.
fn special_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(-0.0f32),
        Just(f32::MIN_POSITIVE / 2.0),
        Just(f32::MAX),
        any::<f32>(),
    ]
}

proptest! {
    #![proptest_config(config(100_000))]

    #[test]
    fn weights_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        framed in any::<bool>(),
        which in 0usize..2,
    ) {
        // Framed: a header length that fits, so the random bytes reach the JSON parser.
        let bytes = if framed { join(&bytes, &[]) } else { bytes };
        check_weights(&small_weights()[which], &bytes)?;
    }
}

proptest! {
    #![proptest_config(config(100_000))]

    #[test]
    fn weights_mutated_bytes(mutations in prop::collection::vec(mutation(), 1..6), which in 0usize..2) {
        let weights = &small_weights()[which];
        check_weights(weights, &mutated(weights.file.clone(), &mutations))?;
    }
}

proptest! {
    #![proptest_config(config(50_000))]

    #[test]
    fn weights_mutated_header(
        edits in prop::collection::vec(header_edit(), 1..4),
        data_mutations in prop::collection::vec(mutation(), 0..2),
        which in 0usize..2,
    ) {
        let weights = &small_weights()[which];
        let (mut header, data) = split(&weights.file);
        for e in &edits {
            edit(&mut header, e);
        }
        let data = mutated(data.to_vec(), &data_mutations);
        check_weights(weights, &join(&serde_json::to_vec(&header).unwrap(), &data))?;
    }
}

proptest! {
    #![proptest_config(config(30_000))]

    #[test]
    fn weights_mutated_values(values in prop::collection::vec((any::<Index>(), special_f32()), 1..4), which in 0usize..2) {
        let weights = &small_weights()[which];
        let mut file = weights.file.clone();
        let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
        let count = (file.len() - 8 - n) / 4;
        for (at, value) in &values {
            let at = 8 + n + 4 * at.index(count);
            file[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
        check_weights(weights, &file)?;
    }
}

proptest! {
    #![proptest_config(config(1_500))]

    #[test]
    fn weights_stacked_mutated(mutations in prop::collection::vec(mutation(), 1..4)) {
        let weights = stacked_weights();
        check_weights(weights, &mutated(weights.file.clone(), &mutations))?;
    }
}

// ---------------------------------------------------------------------------------------------
// Length fields that promise far more than the input holds: an error, at once, with no
// allocation of the promised size.

fn quickly<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = Instant::now();
    let (result, peak) = measure(f);
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
    (result, peak)
}

#[test]
fn idx_headers_promising_gigabytes_allocate_nothing_of_the_kind() {
    // 4 GiB of images promised (5.5 million), 16 bytes present.
    let file = idx(IMAGES_MAGIC, &[u32::MAX / IMAGE_PIXELS as u32, 28, 28], &[0; 16]);
    let (result, peak) = quickly(|| parse_idx_images(&file));
    assert!(matches!(result, Err(IdxError::BadLength { .. })), "{result:?}");
    assert!(peak < 4096, "{peak}");
    let file = idx(LABELS_MAGIC, &[u32::MAX], &[1, 2, 3]);
    let (result, peak) = quickly(|| parse_idx_labels(&gzip(&file)));
    assert!(matches!(result, Err(IdxError::BadLength { .. })), "{result:?}");
    assert!(peak < OVERHEAD, "{peak}");
}

#[test]
fn a_gzip_bomb_stops_at_the_limit() {
    // 65 MiB of zeros compress to about 65 kB.
    let bomb = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..65 {
            encoder.write_all(&zeros).unwrap();
        }
        encoder.finish().unwrap()
    };
    let (result, peak) = measure(|| parse_idx_images(&bomb));
    assert_eq!(result, Err(IdxError::TooLarge));
    assert!(peak <= 3 * (IDX_LIMIT as usize + 1) + OVERHEAD, "{peak}");
}

#[test]
fn weights_headers_promising_gigabytes_allocate_nothing_of_the_kind() {
    let weights = &small_weights()[0];
    for length in [u64::MAX, 4 << 30, 100_000_000, weights.file.len() as u64] {
        let mut file = weights.file.clone();
        file[..8].copy_from_slice(&length.to_le_bytes());
        let (result, peak) = quickly(|| from_safetensors(&weights.config, &file, &Device::flex()));
        assert!(matches!(result, Err(WeightsError::Format(_))), "{length}: {result:?}");
        assert!(peak < 64 << 10, "{length}: {peak}");
    }
    // A tensor claiming 4 GiB of data in a 1.5 kB file.
    let (mut header, data) = split(&weights.file);
    let gib = (4u64 << 30) / 4;
    header["encoder.0.kernel"]["shape"] = json!([gib]);
    let file = join(&serde_json::to_vec(&header).unwrap(), data);
    let (result, peak) = quickly(|| from_safetensors(&weights.config, &file, &Device::flex()));
    assert!(matches!(result, Err(WeightsError::Format(_))), "{result:?}");
    assert!(peak < 64 << 10, "{peak}");
}

#[test]
fn shard_entries_promising_many_images_allocate_by_the_input() {
    let images = LabeledImages::new(vec![7; IMAGE_PIXELS], vec![3]).unwrap();
    let bytes = encode_shard(&images);
    for count in [MAX_SHARD_IMAGES, usize::MAX / (IMAGE_PIXELS + 1), usize::MAX] {
        let entry = ShardEntry { file: "x.bin.gz".into(), images: count, bytes: bytes.len(), sha256: hex_sha256(&bytes) };
        let (result, peak) = quickly(|| inflate_shard(&entry, &bytes));
        assert!(result.is_err(), "{count}");
        assert!(peak <= 3 * inflate_bound(bytes.len()) + OVERHEAD, "{count}: {peak}");
    }
}

// ---------------------------------------------------------------------------------------------
// Regression tests: each crash the fuzzing found, with its minimal input.

/// Found by `shard_mutated`: an entry whose image count times 785 overflows `usize` (an entry
/// built by hand or from an unchecked manifest) panicked computing the content length.
#[test]
fn regression_shard_entry_image_count_overflow() {
    let bytes = encode_shard(&LabeledImages::new(vec![0; IMAGE_PIXELS], vec![0]).unwrap());
    for images in [usize::MAX / (IMAGE_PIXELS + 1) + 1, usize::MAX] {
        let entry = ShardEntry { file: "train-00.bin.gz".into(), images, bytes: bytes.len(), sha256: hex_sha256(&bytes) };
        assert!(matches!(inflate_shard(&entry, &bytes), Err(model::data::ShardError::Content { .. })), "{images}");
        assert!(decode_shard(&entry, &bytes).is_err());
    }
}

/// Found by `shard_arbitrary_bytes`: a 627-byte shard whose entry promised 10,000 images made
/// `inflate_shard` reserve 7.9 MB before reading a byte.
#[test]
fn regression_shard_capacity_follows_the_input() {
    let bytes = encode_shard(&LabeledImages::new(vec![0; IMAGE_PIXELS], vec![0]).unwrap());
    let entry =
        ShardEntry { file: "train-00.bin.gz".into(), images: MAX_SHARD_IMAGES, bytes: bytes.len(), sha256: hex_sha256(&bytes) };
    let (result, peak) = measure(|| inflate_shard(&entry, &bytes));
    assert!(result.is_err());
    assert!(peak <= 3 * inflate_bound(bytes.len()) + OVERHEAD, "{peak}");
}

/// Found by `manifest_mutated_fields`: shard sizes summing past `usize::MAX` made
/// `Manifest::total_bytes` overflow.
#[test]
fn regression_manifest_total_bytes_overflow() {
    let entry = |file: &str, bytes: u64| json!({ "file": file, "images": 1, "bytes": bytes, "sha256": "a".repeat(64) });
    let json = json!({
        "format": FORMAT,
        "image_side": 28,
        "test": [entry("test-00.bin.gz", 18)],
        "train": [entry("train-00.bin.gz", u64::MAX)],
    });
    assert!(matches!(Manifest::from_json(&json.to_string()), Err(model::data::ManifestError::Entry { .. })));
}

/// Found by review: safetensors 0.8 adds the tensors' end offset to the header length without
/// checking, so offsets summing near `usize::MAX` overflow there (a panic in debug builds).
#[test]
fn regression_weights_offsets_near_usize_max() {
    let weights = &small_weights()[0];
    let each = usize::MAX as u64 / 8;
    let mut header = serde_json::Map::new();
    assert_eq!(weights.shapes.len(), 8);
    for (i, name) in weights.shapes.keys().enumerate() {
        let start = i as u64 * each;
        header.insert(name.clone(), json!({ "dtype": "U8", "shape": [each], "data_offsets": [start, start + each] }));
    }
    let file = join(&serde_json::to_vec(&header).unwrap(), &[0; 16]);
    let (result, peak) = quickly(|| from_safetensors(&weights.config, &file, &Device::flex()));
    assert!(matches!(result, Err(WeightsError::Format(_))), "{result:?}");
    assert!(peak < 64 << 10, "{peak}");
}
