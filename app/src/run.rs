//! The compute side of a training run: drives the model crate's [`Trainer`] an epoch at a time,
//! yields to the browser between reports, obeys Pause and Stop, and reports plain numbers and
//! pixels.

use std::cell::Cell;
use std::ops::ControlFlow;
use std::rc::Rc;

use model::data::LabeledImages;
use model::burn::prelude::Device;
use model::{TrainError, TrainEvent, Trainer, read_values};

use crate::backend::{BackendKind, STEP_ENGINE};
use crate::browser::sleep;
use crate::data::Dataset;
pub use crate::events::{Reconstructions, RunEvent};
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

/// Steps between reports: each report yields to the browser, so the page stays responsive.
/// On the CPU a step takes milliseconds and blocks the page; on WebGPU the work runs elsewhere.
pub fn report_every(backend: BackendKind) -> usize {
    match backend {
        BackendKind::Cpu => 4,
        BackendKind::WebGpu => 25,
    }
}

/// A training run: the trainer, where it runs, the visitor's Pause and Stop, and (on WebGPU)
/// the weights of the last finished epoch, read back so a lost GPU does not lose the run.
pub struct Run {
    trainer: Trainer,
    kind: BackendKind,
    control: RunControl,
    last_weights: Option<(usize, Vec<u8>)>,
}

impl Run {
    pub fn new(trainer: Trainer, kind: BackendKind, control: RunControl) -> Self {
        Self { trainer, kind, control, last_weights: None }
    }

    pub fn into_trainer(self) -> Trainer {
        self.trainer
    }

    /// Trains for the settings' epochs. Each epoch uses the training images loaded when it
    /// starts. If the GPU fails, training goes on on the CPU from the last epoch whose weights
    /// were read back ([`RunEvent::MovedToCpu`]).
    pub async fn train(
        &mut self,
        settings: &Settings,
        dataset: impl Fn() -> Dataset,
        sample: impl Fn() -> Vec<usize>,
        emit: impl Fn(RunEvent),
    ) -> Result<(), TrainError> {
        loop {
            let result = self.train_here(settings, &dataset, &sample, &emit).await;
            let Err(TrainError::Device(why)) = &result else { return result };
            if self.kind != BackendKind::WebGpu {
                return result;
            }
            let config = training_config(settings, BackendKind::Cpu);
            let cpu = Device::flex();
            let resumed = match &self.last_weights {
                Some((epoch, bytes)) => Trainer::from_weights(config, bytes, *epoch, &cpu),
                None => Trainer::new(config, &cpu),
            };
            let Ok(resumed) = resumed else { return result };
            emit(RunEvent::MovedToCpu { kept: resumed.epochs_done(), why: why.clone() });
            (self.trainer, self.kind) = (resumed, BackendKind::Cpu);
        }
    }

    async fn train_here(
        &mut self,
        settings: &Settings,
        dataset: &impl Fn() -> Dataset,
        sample: &impl Fn() -> Vec<usize>,
        emit: &impl Fn(RunEvent),
    ) -> Result<(), TrainError> {
        let (trainer, control) = (&mut self.trainer, &self.control);
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
            if self.kind == BackendKind::WebGpu {
                let bytes = model::weights::to_safetensors(&trainer.model(), &trainer.config().model, Default::default()).await?;
                self.last_weights = Some((trainer.epochs_done(), bytes));
            }
            emit(RunEvent::Reconstructions(reconstruct(trainer, &test, &sample()).await?));
            if control.get() == Command::Stop {
                return Err(TrainError::Stopped);
            }
        }
        Ok(())
    }
}

/// The training config the page uses for these settings on this backend.
pub fn training_config(settings: &Settings, backend: BackendKind) -> model::TrainingConfig {
    settings.training_config().with_report_every(report_every(backend)).with_engine(STEP_ENGINE)
}


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
