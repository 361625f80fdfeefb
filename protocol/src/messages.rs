//! The messages between the shell (the page's thread) and the engine (a dedicated worker).
//!
//! The shell starts the engine; once its wasm runs the engine says [`FromEngine::Ready`] with
//! its [`VERSION`] (a message posted before the worker listens is lost, and a stale cached
//! engine must not be talked to). Each [`Request`] carries an id and is answered by one
//! [`FromEngine::Done`]; a run also sends [`RunEvent`]s on the way and takes [`Control`]s.
//! What concerns the whole page rather than one request, the backend and the data, is pushed
//! whenever it changes. Models are named by [`ModelRef`]: the engine fetches a pretrained
//! model's weights the first time it is asked about it, and keeps each model made in this
//! session until the shell forgets it.

use serde::{Deserialize, Serialize};

use crate::data::LabeledImages;
use crate::{Corruption, EpochRecord, ModelShape, Progress, Reconstructions, RunRecord};

/// Both sides must speak the same version: the engine's script is not content-hashed, so a
/// browser may keep a stale one.
pub const VERSION: u32 = 2;

pub type RequestId = u32;

/// Test images the nearest-neighbour accuracies are measured on, codes and pixels alike: 2,000
/// keep the pixels' count (2,000² distances of 784 values) to a second or two.
pub const KNN_ROWS: usize = 2_000;

/// A model the engine can work with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModelRef {
    /// The site's pretrained model of an experiment.
    Pretrained(crate::Experiment),
    /// A model made in this session: trained here, or loaded from a file.
    Made(u32),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToEngine {
    Request { id: RequestId, request: Request },
    /// For the run that request `run` started.
    Control { run: RequestId, control: Control },
    /// The shell no longer shows or keeps this model: the engine may let it go.
    Forget(u32),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Control {
    Pause,
    Resume,
    /// Ends the run after the step under way; finished epochs stay.
    Stop,
    /// Other test images to reconstruct after each epoch.
    Sample(Vec<usize>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Starts the backend for runs at `batch_size` (a run starts one anyway). → [`Reply::Done`]
    StartBackend { choice: BackendChoice, batch_size: usize },
    /// The test images, fetched first if need be: the page draws them. → [`Reply::TestImages`]
    TestImages,
    /// Fetches every training shard not in yet (also those that failed before), without
    /// training. → [`Reply::Done`] once each was tried; failures are in the data status.
    FetchTraining,
    /// Fetches again what failed, and only that (the manifest, the test set, the training
    /// shards the data status names). → [`Reply::Done`]
    Retry,
    /// Trains a model, sending [`RunEvent`]s; a Stop before its data is in calls it off.
    /// → [`Reply::RunEnded`]
    Train(RunSettings),
    /// Weights from a `.safetensors` file, as a model of `shape`. → [`Reply::Model`]
    Load {
        shape: ModelShape,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// A model's weights as a `.safetensors` file whose header names `record`'s experiment and
    /// source. → [`Reply::Bytes`]
    Weights { model: ModelRef, record: RunRecord },
    /// Test images `indices` as the model sees them in training, and rebuilt.
    /// → [`Reply::Reconstructions`]
    Reconstruct { model: ModelRef, indices: Vec<usize> },
    /// The codes of every test image. → [`Reply::Codes`]
    Codes { model: ModelRef },
    /// The codes' PCA map and their nearest-neighbour accuracy. → [`Reply::Lessons`]
    CodeLessons { model: ModelRef },
    /// The raw pixels' PCA map and nearest-neighbour accuracy: no model. → [`Reply::Lessons`]
    PixelLessons,
    /// The `count` test images whose codes are nearest test image `index`'s, nearest first.
    /// → [`Reply::Indices`]
    Nearest { model: ModelRef, index: usize, count: usize },
    /// An image (784 values in [0, 1]), its code and its reconstruction. → [`Reply::Look`]
    Look { model: ModelRef, pixels: Vec<f32> },
    /// An image corrupted at any level, and its reconstruction. → [`Reply::Corrupted`]
    Corrupt { model: ModelRef, pixels: Vec<f32>, corruption: Corruption },
    /// `steps` images decoded from codes evenly spaced between two images' codes, ends
    /// included. → [`Reply::Images`]
    Walk { model: ModelRef, from: Vec<f32>, to: Vec<f32>, steps: usize },
    /// A drawing looked at, and placed on `map` (x, y per test image) among its nearest test
    /// codes when there is one. → [`Reply::Drawn`]
    Draw { model: ModelRef, pixels: Vec<f32>, map: Option<Vec<f32>> },
    /// What the comparison shows of a model: reconstructions of `indices`, and how often a
    /// code's nearest code shares its class. → [`Reply::Measured`]
    Measure { model: ModelRef, indices: Vec<usize> },
}

/// What a run is set up with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub shape: ModelShape,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub seed: u64,
    /// Train on the first N training images only (and fetch only the shards that holds).
    pub train_limit: Option<usize>,
    /// Weights to start from instead of fresh ones (the chapter's tied model).
    pub start_from: Option<ModelRef>,
    /// The test images reconstructed after each epoch.
    pub sample: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Done,
    TestImages(LabeledImages),
    RunEnded(RunEnd),
    Model(u32),
    Bytes(#[serde(with = "serde_bytes")] Vec<u8>),
    Reconstructions(Reconstructions),
    Codes(Codes),
    Lessons(Lessons),
    Indices(Vec<usize>),
    Look(Look),
    Corrupted(Corrupted),
    Images(Vec<f32>),
    Drawn { look: Look, placement: Option<Placement> },
    Measured { reconstructions: Reconstructions, code_accuracy: f64 },
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunEnd {
    /// The model as trained, once an epoch finished (after a divergence, as the last finished
    /// epoch left it).
    pub model: Option<u32>,
    pub epochs_done: usize,
    pub result: Result<(), RunError>,
}

/// Why a run stopped early, as facts the page words in its language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RunError {
    Stopped,
    /// The data it needs did not load (the data status names the files).
    NoData(DataPart),
    Diverged { epoch: usize, step: usize, loss: f64 },
    /// The device failed (a lost GPU whose run could not move to the CPU).
    Device(String),
    /// The run could not start: its settings or starting weights were refused (in the model
    /// crate's words).
    Refused(String),
    /// Anything else, kept as the model crate says it.
    Other(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataPart {
    Test,
    Training,
}

/// What a run tells the page on the way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RunEvent {
    /// Its data is in and the first step is under way.
    Started,
    Progress(Progress),
    /// Validation has covered `done` of `total` test images.
    Validating { done: usize, total: usize },
    Epoch(EpochRecord),
    Reconstructions(Reconstructions),
    /// The GPU failed (`why`); the run goes on on the CPU from `kept` finished epochs.
    MovedToCpu { kept: usize, why: String },
}

/// Codes of test images: `dim` values each, one image after the other.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Codes {
    pub values: Vec<f32>,
    pub dim: usize,
}

/// A map that needs no iterations (PCA) and a nearest-neighbour accuracy on [`KNN_ROWS`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lessons {
    /// x, y per test image.
    pub map: Vec<f32>,
    /// The map's computing time.
    pub seconds: f64,
    pub accuracy: f64,
}

/// An image, its code and its reconstruction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Look {
    pub original: Vec<f32>,
    pub code: Vec<f32>,
    pub reconstruction: Vec<f32>,
}

/// An image as corrupted, and the model's reconstruction of that.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Corrupted {
    pub seen: Vec<f32>,
    pub reconstruction: Vec<f32>,
}

/// Where a new code lands on a map made without it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub x: f32,
    pub y: f32,
    /// The mapped codes nearest to it, nearest first.
    pub neighbours: Vec<usize>,
}

/// Which backend to train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendChoice {
    /// The faster one on this machine.
    Auto,
    WebGpu,
    Cpu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

/// Where training runs, and why there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendNote {
    pub kind: BackendKind,
    pub why: BackendWhy,
}

/// Why training runs where it does, as facts (the browser's own words kept as said).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BackendWhy {
    StartFailed { why: String },
    /// Both timed at the run's batch size; the faster won.
    Timed { batch: usize, gpu_ms: f64, cpu_ms: f64, adapter: String },
    TestFailed { why: String },
    NoWebGpu,
    ProbeFailed { why: String },
    ChosenCpu,
    ChosenWebGpu { adapter: String },
    /// A software adapter: the CPU now, both timed once the data is in.
    SoftwareAdapter { adapter: String },
    /// The GPU won the race while a run was going on the CPU.
    StaysOnCpu(Box<BackendWhy>),
    /// The GPU failed during a run, which went on on the CPU from `kept` finished epochs.
    MovedToCpu { why: String, kept: usize },
}

/// The data as far as it has come. Shards arrive as they are needed: the test set for
/// validation and the tools, the training set for a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataStatus {
    /// Shard bytes in, of all the manifest lists (0 until the manifest is in).
    pub bytes: usize,
    pub total_bytes: usize,
    /// Images in, test and training, of all the manifest lists.
    pub images: usize,
    pub total_images: usize,
    pub test_in: bool,
    pub training_images: usize,
    /// Training images the manifest lists.
    pub total_training_images: usize,
    /// The shard bytes of the training set, for the page to say what fetching it costs.
    pub training_bytes: usize,
    /// Files that did not load, each named with why; fetching again retries them.
    pub failures: Vec<String>,
    /// Files that could not be fetched because there was no network and this device keeps no
    /// copy of them (a training shard never fetched before, on a page opened offline). Fetching
    /// again retries them, once the network is back.
    pub unreachable: Vec<String>,
    /// A fetch is under way.
    pub fetching: bool,
}

impl DataStatus {
    /// A run can start: the test set and some training images are in.
    pub fn usable(&self) -> bool {
        self.test_in && self.training_images > 0
    }

    /// Every file the manifest lists is in.
    pub fn complete(&self) -> bool {
        self.total_bytes > 0 && self.bytes == self.total_bytes
    }

    /// Some file did not load, for whatever reason: a Retry has something to do.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty() || !self.unreachable.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromEngine {
    Ready { version: u32 },
    Backend(BackendNote),
    Data(DataStatus),
    Run { id: RequestId, event: RunEvent },
    /// Request `id` is answered: its result, or why it failed (in the model crate's words).
    Done { id: RequestId, reply: Result<Reply, String> },
    /// The engine failed beyond repair (a bug): nothing more will be answered.
    Crashed { why: String },
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::wire::{decode, encode};
    use crate::{Experiment, data::IMAGE_PIXELS};

    fn round_trips<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        assert_eq!(decode::<T>(&encode(&value)).as_ref(), Ok(&value));
    }

    fn images(n: usize) -> Vec<f32> {
        (0..n * IMAGE_PIXELS).map(|i| (i % 256) as f32 / 255.0).collect()
    }

    fn reconstructions() -> Reconstructions {
        Reconstructions { originals: images(2), seen: Some(images(2)), outputs: images(2) }
    }

    fn look() -> Look {
        Look { original: images(1), code: vec![0.0, 1.5, 3.25], reconstruction: images(1) }
    }

    fn record() -> RunRecord {
        RunRecord {
            experiment: Experiment::Tied,
            epochs: 2,
            batch_size: 32,
            learning_rate: 1.5,
            seed: 7,
            source: "trained in the browser".into(),
            history: vec![epoch()],
            started_from: Some("tied, 10 epochs".into()),
            map: vec![1.0, -2.0],
        }
    }

    fn epoch() -> EpochRecord {
        EpochRecord { epoch: 1, loss: 0.3, rounded_accuracy: 0.9, val_loss: 0.29, val_rounded_accuracy: 0.91, seconds: 3.5 }
    }

    #[test]
    fn every_request_round_trips() {
        let model = ModelRef::Pretrained(Experiment::Denoising);
        let requests = [
            Request::StartBackend { choice: BackendChoice::Auto, batch_size: 32 },
            Request::TestImages,
            Request::FetchTraining,
            Request::Retry,
            Request::Train(RunSettings {
                shape: Experiment::Dropout.shape(),
                epochs: 10,
                batch_size: 256,
                learning_rate: 0.75,
                seed: u64::MAX,
                train_limit: Some(2048),
                start_from: Some(ModelRef::Made(3)),
                sample: vec![0, 9999],
            }),
            Request::Load { shape: Experiment::Tied.shape(), bytes: vec![0, 1, 255] },
            Request::Weights { model, record: record() },
            Request::Reconstruct { model, indices: vec![1, 2, 3] },
            Request::Codes { model: ModelRef::Made(0) },
            Request::CodeLessons { model },
            Request::PixelLessons,
            Request::Nearest { model, index: 42, count: 8 },
            Request::Look { model, pixels: images(1) },
            Request::Corrupt { model, pixels: images(1), corruption: Corruption { noise_stddev: 0.3, dropout_rate: 0.5 } },
            Request::Walk { model, from: images(1), to: images(1), steps: 9 },
            Request::Draw { model, pixels: images(1), map: Some(vec![0.5; 20]) },
            Request::Draw { model, pixels: images(1), map: None },
            Request::Measure { model, indices: vec![0, 1] },
        ];
        for (id, request) in (0..).zip(requests) {
            round_trips(ToEngine::Request { id, request });
        }
        for control in [Control::Pause, Control::Resume, Control::Stop, Control::Sample(vec![5, 6])] {
            round_trips(ToEngine::Control { run: 4, control });
        }
        round_trips(ToEngine::Forget(9));
    }

    #[test]
    fn every_reply_and_event_round_trips() {
        let test = LabeledImages::new(vec![7; 3 * IMAGE_PIXELS], vec![0, 5, 9]).unwrap();
        let replies = [
            Reply::Done,
            Reply::TestImages(test),
            Reply::RunEnded(RunEnd { model: Some(2), epochs_done: 3, result: Ok(()) }),
            Reply::RunEnded(RunEnd { model: None, epochs_done: 0, result: Err(RunError::NoData(DataPart::Test)) }),
            Reply::RunEnded(RunEnd { model: Some(1), epochs_done: 1, result: Err(RunError::Diverged { epoch: 2, step: 7, loss: f64::INFINITY }) }),
            Reply::RunEnded(RunEnd { model: None, epochs_done: 0, result: Err(RunError::Refused("batch size must be 1 to 4096".into())) }),
            Reply::Model(5),
            Reply::Bytes(vec![1, 2, 3]),
            Reply::Reconstructions(reconstructions()),
            Reply::Codes(Codes { values: vec![0.25; 64], dim: 32 }),
            Reply::Lessons(Lessons { map: vec![1.0, 2.0], seconds: 0.01, accuracy: 0.77 }),
            Reply::Indices(vec![3, 1, 4]),
            Reply::Look(look()),
            Reply::Corrupted(Corrupted { seen: images(1), reconstruction: images(1) }),
            Reply::Images(images(9)),
            Reply::Drawn { look: look(), placement: Some(Placement { x: 1.0, y: -1.0, neighbours: vec![0, 4] }) },
            Reply::Measured { reconstructions: reconstructions(), code_accuracy: 0.8 },
        ];
        for (id, reply) in (0..).zip(replies) {
            round_trips(FromEngine::Done { id, reply: Ok(reply) });
        }
        round_trips(FromEngine::Done { id: 1, reply: Err("the file has no tensor `encoder.0.kernel`".into()) });
        let events = [
            RunEvent::Started,
            RunEvent::Progress(Progress { epoch: 1, step: 10, steps: 1875, loss: 0.4, rounded_accuracy: 0.8 }),
            RunEvent::Validating { done: 5000, total: 10000 },
            RunEvent::Epoch(epoch()),
            RunEvent::Reconstructions(reconstructions()),
            RunEvent::MovedToCpu { kept: 1, why: "Device was destroyed".into() },
        ];
        for event in events {
            round_trips(FromEngine::Run { id: 3, event });
        }
        let whys = [
            BackendWhy::StartFailed { why: "refused".into() },
            BackendWhy::Timed { batch: 32, gpu_ms: 75.5, cpu_ms: 10.6, adapter: "google swiftshader".into() },
            BackendWhy::TestFailed { why: "lost".into() },
            BackendWhy::NoWebGpu,
            BackendWhy::ProbeFailed { why: "no adapter".into() },
            BackendWhy::ChosenCpu,
            BackendWhy::ChosenWebGpu { adapter: "a GPU".into() },
            BackendWhy::SoftwareAdapter { adapter: "llvmpipe".into() },
            BackendWhy::StaysOnCpu(Box::new(BackendWhy::NoWebGpu)),
            BackendWhy::MovedToCpu { why: "lost".into(), kept: 2 },
        ];
        for why in whys {
            round_trips(FromEngine::Backend(BackendNote { kind: BackendKind::Cpu, why }));
        }
        let data = DataStatus {
            bytes: 10,
            total_bytes: 20,
            images: 10_000,
            total_images: 70_000,
            test_in: true,
            training_images: 0,
            total_training_images: 60_000,
            training_bytes: 26_000_000,
            failures: vec!["train-01.bin.gz: HTTP 404".into()],
            unreachable: vec!["train-02.bin.gz".into()],
            fetching: true,
        };
        round_trips(FromEngine::Data(data));
        round_trips(FromEngine::Ready { version: VERSION });
        round_trips(FromEngine::Crashed { why: "panicked at …".into() });
    }

    #[test]
    fn pixels_travel_packed() {
        // 10,000 test images are 7.8 MB of pixels: a byte each on the wire, not a number each.
        let pixels = 3 * IMAGE_PIXELS;
        let test = LabeledImages::new(vec![200; pixels], vec![1; 3]).unwrap();
        let bytes = encode(&FromEngine::Done { id: 0, reply: Ok(Reply::TestImages(test)) });
        assert!(bytes.len() < pixels + 3 + 32, "{} bytes", bytes.len());
    }

    #[test]
    fn data_status_says_what_can_be_done() {
        let mut status = DataStatus::default();
        assert!(!status.usable() && !status.complete());
        status.test_in = true;
        assert!(!status.usable());
        status.training_images = 10_000;
        assert!(status.usable());
        (status.bytes, status.total_bytes) = (5, 5);
        assert!(status.complete());
        assert!(!status.failed());
        status.unreachable.push("train-03.bin.gz".into());
        assert!(status.failed());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// A message from a stale or broken peer is an error, never a panic or a huge allocation.
        #[test]
        fn garbage_is_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode::<ToEngine>(&bytes);
            let _ = decode::<FromEngine>(&bytes);
        }
    }
}
