//! The compute side of a training run: drives the model crate's [`Trainer`] an epoch at a time,
//! yields to the browser between reports, obeys Pause and Stop, and reports plain numbers and
//! pixels.

use std::cell::Cell;
use std::ops::ControlFlow;
use std::rc::Rc;

use model::data::LabeledImages;
use model::{EpochRecord, Progress, TrainError, TrainEvent, Trainer, read_values};

use crate::backend::BackendKind;
use crate::data::Dataset;
use crate::settings::Settings;

/// What the visitor asked the run to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Run,
    Pause,
    Stop,
}

/// Shared between the buttons and the run.
#[derive(Clone)]
pub struct RunControl(Rc<Cell<Command>>);

impl RunControl {
    pub fn new() -> Self {
        Self(Rc::new(Cell::new(Command::Run)))
    }

    pub fn set(&self, command: Command) {
        self.0.set(command);
    }

    pub fn get(&self) -> Command {
        self.0.get()
    }
}

/// Test images as the model saw and rebuilt them, `count` images of 784 values in [0, 1] each.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconstructions {
    pub originals: Vec<f32>,
    /// The corrupted input, for the denoising and dropout experiments.
    pub seen: Option<Vec<f32>>,
    pub outputs: Vec<f32>,
}

/// What the run tells the page.
pub enum RunEvent {
    Progress(Progress),
    /// Validation has covered `done` of `total` test images.
    Validating { done: usize, total: usize },
    Epoch(EpochRecord),
    Reconstructions(Reconstructions),
    /// The weights after `epoch`, as a `.safetensors` file (when asked for): on the GPU, so
    /// a lost device does not lose the run.
    Weights { epoch: usize, bytes: Vec<u8> },
}

/// Steps between reports: each report yields to the browser, so the page stays responsive.
/// On the CPU a step takes milliseconds and blocks the page; on WebGPU the work runs elsewhere.
fn report_every(backend: BackendKind) -> usize {
    match backend {
        BackendKind::Cpu => 4,
        BackendKind::WebGpu => 25,
    }
}

/// Trains for the settings' epochs. Each epoch uses the training images loaded when it starts.
/// With `keep_weights`, the weights are read back after every epoch ([`RunEvent::Weights`]).
pub async fn train(
    trainer: &mut Trainer,
    settings: &Settings,
    dataset: impl Fn() -> Dataset,
    sample: impl Fn() -> Vec<usize>,
    control: &RunControl,
    keep_weights: bool,
    emit: impl Fn(RunEvent),
) -> Result<(), TrainError> {
    while trainer.epochs_done() < settings.epochs {
        let data = dataset();
        let test = data.test.clone().ok_or(TrainError::NoData("test"))?;
        let train = match settings.train_limit {
            Some(limit) if limit < data.train.len() => Rc::new(data.train.slice(0..limit)),
            _ => data.train.clone(),
        };
        let mut on_event = async |event: TrainEvent| {
            emit(match event {
                TrainEvent::Progress(progress) => RunEvent::Progress(progress),
                TrainEvent::Validating { done, total, .. } => RunEvent::Validating { done, total },
                TrainEvent::Epoch(record) => RunEvent::Epoch(record),
            });
            pace(control).await
        };
        trainer.run_epoch(&train, &test, &mut on_event).await?;
        if keep_weights {
            let config = &trainer.config().model;
            let bytes = model::weights::to_safetensors(&trainer.model(), config, Default::default()).await?;
            emit(RunEvent::Weights { epoch: trainer.epochs_done(), bytes });
        }
        let reconstructions = reconstruct(trainer, &test, &sample()).await?;
        emit(RunEvent::Reconstructions(reconstructions));
        if control.get() == Command::Stop {
            return Err(TrainError::Stopped);
        }
    }
    Ok(())
}

/// The training config the page uses for these settings on this backend.
pub fn training_config(settings: &Settings, backend: BackendKind) -> model::TrainingConfig {
    settings.training_config().with_report_every(report_every(backend)).with_engine(STEP_ENGINE)
}

/// The page trains with the fused step on WebGPU (burn's autodiff on the CPU): 19 kernel launches
/// a step where burn's autodiff launches 109, measured 4.6x faster per batch-32 step in Chromium
/// on SwiftShader (see the README's benchmarks). The backend race times this same engine.
pub const STEP_ENGINE: model::StepEngine = model::StepEngine::Auto;

/// Lets the browser paint and handle input, then holds while paused.
async fn pace(control: &RunControl) -> ControlFlow<()> {
    sleep(0).await;
    while control.get() == Command::Pause {
        sleep(100).await;
    }
    if control.get() == Command::Stop { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
}

/// Reconstructions of test images `indices` by the model as trained so far.
pub async fn reconstruct(trainer: &Trainer, test: &LabeledImages, indices: &[usize]) -> Result<Reconstructions, TrainError> {
    let (seen, outputs) = trainer.reconstruct(test, indices);
    let mut values = read_values([seen, outputs]).await?.into_iter();
    let (seen, outputs) = (values.next().unwrap_or_default(), values.next().unwrap_or_default());
    let originals = test.batch_pixels(indices);
    let corrupted = trainer.config().model.noise_stddev > 0.0 || trainer.config().model.dropout_rate > 0.0;
    Ok(Reconstructions { originals, seen: corrupted.then_some(seen), outputs })
}

/// Resolves after `ms` milliseconds (0: after the browser's pending tasks).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
