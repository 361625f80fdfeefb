//! Fetching the Fashion-MNIST shards from the page's own host, checking each against the
//! manifest, and making the data usable as soon as the test shard and one train shard are in.
//! A shard that fails is named and can be fetched again; the others stay in use.

use std::rc::Rc;

use model::data::{LabeledImages, MANIFEST_FILE, Manifest, ShardEntry, inflate_shard, verify_shard};

use crate::browser::{fetch_bytes, sleep};

/// Relative, so the page works from any sub-path.
pub const DATA_URL: &str = "data/fashion-mnist/";

/// The data loaded so far. Train images grow shard by shard; each snapshot is shared, not copied.
#[derive(Clone, Default)]
pub struct Dataset {
    pub test: Option<Rc<LabeledImages>>,
    pub train: Rc<LabeledImages>,
    /// The shard files in, so a retry fetches only the others.
    pub files: Vec<String>,
}

impl Dataset {
    /// Training can start once the test set and some training images are in.
    pub fn is_usable(&self) -> bool {
        self.test.is_some() && !self.train.is_empty()
    }
}

/// How far loading has come, for the progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoadProgress {
    pub bytes: usize,
    pub total_bytes: usize,
    pub images: usize,
    pub total_images: usize,
}

impl LoadProgress {
    pub fn is_complete(&self) -> bool {
        self.total_bytes > 0 && self.bytes == self.total_bytes
    }
}

/// Loads what `dataset` lacks: the manifest, then the test shards, then the train shards in
/// order, calling `on_shard` with the dataset so far after each. A train shard that fails is
/// skipped and the rest still load. Returns the failures, each naming its file; call again
/// with the dataset so far to retry them.
pub async fn load(mut dataset: Dataset, mut progress: LoadProgress, mut on_shard: impl FnMut(Dataset, LoadProgress)) -> Vec<String> {
    let manifest_url = format!("{DATA_URL}{MANIFEST_FILE}");
    let manifest = match fetch_bytes(&manifest_url).await {
        Ok(bytes) => Manifest::from_json(&String::from_utf8_lossy(&bytes)).map_err(|e| format!("{manifest_url} is not a usable manifest: {e}")),
        Err(e) => Err(e),
    };
    let manifest = match manifest {
        Ok(manifest) => manifest,
        Err(e) => return vec![e],
    };
    progress.total_bytes = manifest.total_bytes();
    progress.total_images = manifest.test.iter().chain(&manifest.train).map(|s| s.images).sum();
    on_shard(dataset.clone(), progress);

    if dataset.test.is_none() {
        // Validation needs every test image: the test set counts only once it is whole.
        let mut test = LabeledImages::default();
        let mut fetched = LoadProgress::default();
        for entry in &manifest.test {
            match fetch_shard(entry, &mut fetched).await {
                Ok(shard) => test.extend(&shard),
                Err(e) => return vec![e],
            }
        }
        progress.bytes += fetched.bytes;
        progress.images += fetched.images;
        dataset.test = Some(Rc::new(test));
        dataset.files.extend(manifest.test.iter().map(|e| e.file.clone()));
        on_shard(dataset.clone(), progress);
    }

    let mut failures = Vec::new();
    let missing: Vec<&ShardEntry> = manifest.train.iter().filter(|e| !dataset.files.contains(&e.file)).collect();
    for entry in missing {
        match fetch_shard(entry, &mut progress).await {
            Ok(shard) => {
                // Copies only while a training epoch still holds the previous snapshot.
                Rc::make_mut(&mut dataset.train).extend(&shard);
                dataset.files.push(entry.file.clone());
                sleep(0).await;
                on_shard(dataset.clone(), progress);
            }
            Err(e) => failures.push(e),
        }
    }
    failures
}

async fn fetch_shard(entry: &ShardEntry, progress: &mut LoadProgress) -> Result<LabeledImages, String> {
    let url = format!("{DATA_URL}{}", entry.file);
    let bytes = fetch_bytes(&url).await?;
    // Hashing and inflating take tens of milliseconds each: let the page draw in between.
    let failed = |e| format!("{DATA_URL}{e}");
    verify_shard(entry, &bytes).map_err(failed)?;
    sleep(0).await;
    let shard = inflate_shard(entry, &bytes).map_err(failed)?;
    sleep(0).await;
    progress.bytes += bytes.len();
    progress.images += shard.len();
    Ok(shard)
}
