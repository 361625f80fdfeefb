//! The Fashion-MNIST shards, fetched from the page's own host as they are needed: the test
//! set for validation and the tools, the training shards a run needs (all of them, or only
//! those holding its first `train_limit` images). Each is checked against the manifest's
//! length and SHA-256 and inflated here, off the page's thread. A train shard that fails is
//! named and skipped (a later fetch retries it); the test set and the manifest are needed whole.
//! Every change is pushed to the shell as a [`DataStatus`].

use std::cell::RefCell;
use std::rc::Rc;

use futures::lock::Mutex;
use model::data::{LabeledImages, MANIFEST_FILE, Manifest, ShardEntry, inflate_shard, verify_shard};
use protocol::messages::{DataStatus, FromEngine};

use crate::worker::{FetchError, fetch_bytes, post, yield_now};

/// Relative to the worker's script, which sits beside the page: it works from any sub-path.
const DATA_URL: &str = "data/fashion-mnist/";

#[derive(Default)]
pub struct Data {
    state: RefCell<State>,
    /// One file at a time: a second fetch of the same file waits, then finds it in.
    fetching: Mutex<()>,
}

#[derive(Default)]
struct State {
    manifest: Option<Manifest>,
    test: Option<Rc<LabeledImages>>,
    /// Grows shard by shard; a run's epoch holds the snapshot it started with.
    train: Rc<LabeledImages>,
    /// Shards in, so a later fetch asks only for the others.
    files: Vec<String>,
    /// Files that failed, each with why.
    failures: Vec<(String, FetchError)>,
    status: DataStatus,
}

impl State {
    /// Puts `shard` among the training images in the manifest's order, whichever order the
    /// shards arrived in: the first N images are the same in every run (`train_limit`).
    fn add_training_shard(&mut self, manifest: &Manifest, entry: &ShardEntry, shard: &LabeledImages) {
        let before: usize = manifest.train.iter().take_while(|e| e.file != entry.file).filter(|e| self.files.contains(&e.file)).map(|e| e.images).sum();
        if before == self.train.len() {
            // Copies only while an epoch still holds the previous snapshot.
            Rc::make_mut(&mut self.train).extend(shard);
        } else {
            let mut spliced = self.train.slice(0..before);
            spliced.extend(shard);
            spliced.extend(&self.train.slice(before..self.train.len()));
            self.train = Rc::new(spliced);
        }
        self.files.push(entry.file.clone());
        self.status.training_images += shard.len();
        self.status.images += shard.len();
        self.status.bytes += entry.bytes;
    }
}

impl Data {
    /// The test images, fetched first if need be.
    pub async fn test(&self) -> Result<Rc<LabeledImages>, String> {
        if let Some(test) = self.state.borrow().test.clone() {
            return Ok(test);
        }
        let _one_at_a_time = self.lock().await;
        let result = self.fetch_test().await;
        self.set_fetching(false);
        result
    }

    /// Fetches the training shards that hold the first `limit` images (all of them for `None`)
    /// and are not in yet, in order, calling `on_shard` as each wanted shard is in (whoever
    /// fetched it). A shard another fetch is bringing is waited for, not fetched twice.
    /// Failures are kept in the status; the rest still load.
    pub async fn fetch_training(&self, limit: Option<usize>, on_shard: impl FnMut()) {
        let Some(manifest) = self.locked_manifest().await else { return };
        self.fetch_shards(&manifest, manifest.training_shards(limit), on_shard).await;
    }

    /// Fetches again what failed, and only that: the manifest and test set, the training
    /// shards named in the status.
    pub async fn retry(&self) {
        let failed: Vec<String> = self.state.borrow().failures.iter().map(|(file, _)| file.clone()).collect();
        if !self.state.borrow().status.test_in {
            let _ = self.test().await;
        }
        let Some(manifest) = self.locked_manifest().await else { return };
        let again: Vec<ShardEntry> = manifest.train.iter().filter(|e| failed.contains(&e.file)).cloned().collect();
        self.fetch_shards(&manifest, &again, || {}).await;
    }

    /// The manifest, fetching it under the lock if need be.
    async fn locked_manifest(&self) -> Option<Manifest> {
        let _one_at_a_time = self.lock().await;
        let manifest = self.manifest().await;
        self.set_fetching(false);
        manifest.ok()
    }

    /// Fetches `entries` (training shards of `manifest`) that are not in, one at a time.
    async fn fetch_shards(&self, manifest: &Manifest, entries: &[ShardEntry], mut on_shard: impl FnMut()) {
        self.forget_failures(&entries.iter().filter(|e| !self.has(&e.file)).collect::<Vec<_>>());
        // Named once the round is over: a Retry then asks for all of them again.
        let mut failed = Vec::new();
        for entry in entries {
            let _one_at_a_time = self.lock().await;
            if !self.has(&entry.file) {
                self.set_fetching(true);
                match fetch_shard(entry).await {
                    Ok(shard) => self.update(|state| state.add_training_shard(manifest, entry, &shard)),
                    Err(why) => failed.push((entry.file.clone(), why)),
                }
                self.set_fetching(false);
            }
            if self.has(&entry.file) {
                on_shard();
            }
        }
        // Another round may have brought or named one of them meanwhile.
        failed.retain(|(file, _)| !self.has(file) && !self.state.borrow().failures.iter().any(|(named, _)| named == file));
        if !failed.is_empty() {
            self.update(|state| state.failures.extend(failed));
        }
    }

    /// The images in now: the test set, if in, and the training images so far.
    pub fn snapshot(&self) -> (Option<Rc<LabeledImages>>, Rc<LabeledImages>) {
        let state = self.state.borrow();
        (state.test.clone(), state.train.clone())
    }

    fn has(&self, file: &str) -> bool {
        self.state.borrow().files.iter().any(|f| f == file)
    }

    async fn lock(&self) -> futures::lock::MutexGuard<'_, ()> {
        self.fetching.lock().await
    }

    /// The manifest, fetched once (again after a failure). Call with the lock held.
    async fn manifest(&self) -> Result<Manifest, String> {
        if let Some(manifest) = self.state.borrow().manifest.clone() {
            return Ok(manifest);
        }
        self.forget_failures_of(MANIFEST_FILE);
        self.set_fetching(true);
        let url = format!("{DATA_URL}{MANIFEST_FILE}");
        let manifest = match fetch_bytes(&url).await {
            Ok(bytes) => Manifest::from_json(&String::from_utf8_lossy(&bytes)).map_err(|e| FetchError::Failed(format!("{url} is not a usable manifest: {e}"))),
            Err(e) => Err(e),
        };
        match manifest {
            Ok(manifest) => {
                self.update(|state| {
                    state.status.total_bytes = manifest.total_bytes();
                    state.status.total_images = manifest.test.iter().chain(&manifest.train).map(|s| s.images).sum();
                    state.status.total_training_images = manifest.train.iter().map(|s| s.images).sum();
                    state.status.training_bytes = manifest.train.iter().map(|s| s.bytes).sum();
                    state.manifest = Some(manifest.clone());
                });
                Ok(manifest)
            }
            Err(why) => {
                let said = why.to_string();
                self.fail(MANIFEST_FILE, why);
                Err(said)
            }
        }
    }

    /// Validation needs every test image: the test set counts only once it is whole. Call
    /// with the lock held.
    async fn fetch_test(&self) -> Result<Rc<LabeledImages>, String> {
        if let Some(test) = self.state.borrow().test.clone() {
            return Ok(test);
        }
        let manifest = self.manifest().await?;
        self.forget_failures(&manifest.test.iter().collect::<Vec<_>>());
        self.set_fetching(true);
        let mut test = LabeledImages::default();
        for entry in &manifest.test {
            match fetch_shard(entry).await {
                Ok(shard) => test.extend(&shard),
                Err(why) => {
                    let said = why.to_string();
                    self.fail(&entry.file, why);
                    return Err(said);
                }
            }
        }
        let test = Rc::new(test);
        self.update(|state| {
            state.test = Some(test.clone());
            state.files.extend(manifest.test.iter().map(|e| e.file.clone()));
            state.status.test_in = true;
            state.status.images += test.len();
            state.status.bytes += manifest.test.iter().map(|e| e.bytes).sum::<usize>();
        });
        Ok(test)
    }

    fn fail(&self, file: &str, why: FetchError) {
        self.update(|state| state.failures.push((file.to_string(), why)));
    }

    /// A fetch is about to try these again.
    fn forget_failures(&self, entries: &[&ShardEntry]) {
        if !entries.is_empty() {
            self.update(|state| state.failures.retain(|(file, _)| !entries.iter().any(|e| &e.file == file)));
        }
    }

    fn forget_failures_of(&self, file: &str) {
        self.update(|state| state.failures.retain(|(failed, _)| failed != file));
    }

    fn set_fetching(&self, fetching: bool) {
        if self.state.borrow().status.fetching != fetching {
            self.update(|state| state.status.fetching = fetching);
        }
    }

    /// Changes the state, and tells the shell.
    fn update(&self, change: impl FnOnce(&mut State)) {
        let status = {
            let mut state = self.state.borrow_mut();
            change(&mut state);
            let (unreachable, failed): (Vec<_>, Vec<_>) = state.failures.iter().partition(|(_, why)| matches!(why, FetchError::Unreachable { .. }));
            let unreachable = unreachable.into_iter().map(|(file, _)| file.clone()).collect();
            let failures = failed.into_iter().map(|(_, why)| why.to_string()).collect();
            (state.status.unreachable, state.status.failures) = (unreachable, failures);
            state.status.clone()
        };
        post(&FromEngine::Data(status));
    }
}

async fn fetch_shard(entry: &ShardEntry) -> Result<LabeledImages, FetchError> {
    let bytes = fetch_bytes(&format!("{DATA_URL}{}", entry.file)).await?;
    let failed = |e| FetchError::Failed(format!("{DATA_URL}{e}"));
    verify_shard(entry, &bytes).map_err(failed)?;
    // Hashing and inflating take tens of milliseconds each: let the shell's messages in between.
    yield_now().await;
    let shard = inflate_shard(entry, &bytes).map_err(failed)?;
    yield_now().await;
    Ok(shard)
}
