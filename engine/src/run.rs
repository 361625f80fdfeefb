//! A training run: drives the model crate's [`Trainer`] an epoch at a time, takes the shell's
//! Pause, Resume, Stop and other test images between reports, and reports plain numbers and
//! pixels. If the GPU fails it goes on on the CPU from the last finished epoch.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::rc::Rc;

use model::burn::prelude::Device;
use model::data::LabeledImages;
use model::{AutoencoderConfig, TrainError, TrainEvent, Trainer, TrainingConfig};
use protocol::messages::{BackendKind, Control, RunEvent, RunSettings};

use crate::backend::STEP_ENGINE;
use crate::worker::{now, sleep, yield_now};

/// What the shell asked of the run so far.
#[derive(Clone, Debug, PartialEq)]
struct Wishes {
    paused: bool,
    stopped: bool,
    /// The test images to reconstruct after each epoch.
    sample: Vec<usize>,
}

/// Shared between the engine's message handler and the run.
#[derive(Clone)]
pub struct RunControl(Rc<RefCell<Wishes>>);

impl RunControl {
    pub fn new(sample: Vec<usize>) -> Self {
        Self(Rc::new(RefCell::new(Wishes { paused: false, stopped: false, sample })))
    }

    pub fn apply(&self, control: Control) {
        let mut wishes = self.0.borrow_mut();
        match control {
            Control::Pause => wishes.paused = true,
            Control::Resume => wishes.paused = false,
            Control::Stop => (wishes.paused, wishes.stopped) = (false, true),
            Control::Sample(sample) => wishes.sample = sample,
        }
    }

    fn paused(&self) -> bool {
        self.0.borrow().paused
    }

    pub fn stopped(&self) -> bool {
        self.0.borrow().stopped
    }

    fn sample(&self) -> Vec<usize> {
        self.0.borrow().sample.clone()
    }
}

/// Steps between reports: each reads the running loss back and lets the worker take messages.
/// On WebGPU a read waits for the GPU, so it comes less often.
pub fn report_every(backend: BackendKind) -> usize {
    match backend {
        BackendKind::Cpu => 4,
        BackendKind::WebGpu => 25,
    }
}

/// The training config for `settings` on `backend`.
pub fn training_config(settings: &RunSettings, backend: BackendKind) -> TrainingConfig {
    TrainingConfig::new(AutoencoderConfig::from(settings.shape.clone()))
        .with_epochs(settings.epochs)
        .with_batch_size(settings.batch_size)
        .with_learning_rate(settings.learning_rate)
        .with_seed(settings.seed)
        .with_report_every(report_every(backend))
        .with_engine(STEP_ENGINE)
}

/// The shell hears at most this many progress reports a second: enough for a smooth status
/// line and live curve, few enough that the page's thread barely notices.
const PROGRESS_PER_SECOND: f64 = 10.0;

/// A run: the trainer, where it runs, the shell's wishes, and (on WebGPU) the weights of the
/// last finished epoch, read back so a lost GPU does not lose the run.
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

    /// Trains for the settings' epochs. Each epoch uses the training images `data` has when it
    /// starts. If the GPU fails, training goes on on the CPU from the last epoch whose weights
    /// were read back ([`RunEvent::MovedToCpu`]).
    pub async fn train(
        &mut self,
        settings: &RunSettings,
        data: &impl Fn() -> (Option<Rc<LabeledImages>>, Rc<LabeledImages>),
        emit: &impl Fn(RunEvent),
    ) -> Result<(), TrainError> {
        loop {
            let result = self.train_here(settings, data, emit).await;
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
        settings: &RunSettings,
        data: &impl Fn() -> (Option<Rc<LabeledImages>>, Rc<LabeledImages>),
        emit: &impl Fn(RunEvent),
    ) -> Result<(), TrainError> {
        let (trainer, control) = (&mut self.trainer, &self.control);
        let mut last_progress = 0.0;
        while trainer.epochs_done() < settings.epochs {
            let (test, train) = data();
            let test = test.ok_or(TrainError::NoData("test"))?;
            let train = match settings.train_limit {
                Some(limit) if limit < train.len() => Rc::new(train.slice(0..limit)),
                _ => train,
            };
            let mut on_event = async |event: TrainEvent| {
                match event {
                    TrainEvent::Progress(progress) => {
                        let last_step = progress.step == progress.steps;
                        if last_step || now() - last_progress >= 1e3 / PROGRESS_PER_SECOND {
                            last_progress = now();
                            emit(RunEvent::Progress(progress));
                        }
                    }
                    TrainEvent::Validating { done, total, .. } => emit(RunEvent::Validating { done, total }),
                    TrainEvent::Epoch(record) => emit(RunEvent::Epoch(record)),
                }
                pace(control).await
            };
            trainer.run_epoch(&train, &test, &mut on_event).await?;
            if self.kind == BackendKind::WebGpu {
                let bytes = model::weights::to_safetensors(&trainer.model(), &trainer.config().model, Default::default()).await?;
                self.last_weights = Some((trainer.epochs_done(), bytes));
            }
            let sample: Vec<usize> = control.sample().into_iter().filter(|&i| i < test.len()).collect();
            emit(RunEvent::Reconstructions(trainer.reconstructions(&test, &sample).await?));
            if control.stopped() {
                return Err(TrainError::Stopped);
            }
        }
        Ok(())
    }
}

/// Takes the shell's messages, then holds while paused.
async fn pace(control: &RunControl) -> ControlFlow<()> {
    yield_now().await;
    while control.paused() {
        sleep(100).await;
    }
    if control.stopped() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
}
