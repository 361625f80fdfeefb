//! Fashion-MNIST as plain bytes: the IDX reader, the shard format the page fetches, and the
//! class names. Nothing here knows about tensors, so the page can use it before any backend
//! exists, and the shards are written without compiling one (`cargo run -p fmnist-data`).
//! The model crate re-exports it as `model::data`.

mod idx;
mod images;
mod shard;
#[cfg(not(target_arch = "wasm32"))]
pub mod source;

pub use idx::{IdxError, parse_idx_images, parse_idx_labels};
pub use images::{IMAGE_PIXELS, IMAGE_SIDE, LabeledImages};
pub use shard::{
    MANIFEST_FILE, MAX_SHARD_IMAGES, Manifest, ManifestError, ShardEntry, ShardError, decode_shard,
    encode_shard, inflate_shard, verify_shard, write_shards,
};

/// Fashion-MNIST's ten classes, in label order.
pub const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];
