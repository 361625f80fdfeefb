//! A run on the page: Train, Pause and Stop, and what the run's events change.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use model::burn::prelude::Device;
use model::weights::RunRecord;
use model::{Experiment, TrainError, Trainer};

use super::{Backend, Page, Shown, ShownModel};
use crate::backend::{BackendInfo, BackendKind};
use crate::figures::{FinishedRun, RunFigures};
use crate::files;
use crate::run::{self, Command, Reconstructions, Run, RunControl, RunEvent};
use crate::settings::Settings;
use crate::state::Phase;
use crate::text::{Message, RunError};

/// The run being trained (or last trained), and the models trained here.
#[derive(Clone, Copy)]
pub struct Training {
    pub figures: RwSignal<RunFigures>,
    /// The run's latest reconstructions.
    pub reconstructions: RwSignal<Option<Reconstructions>>,
    pub paused: RwSignal<bool>,
    control: StoredValue<Option<RunControl>, LocalStorage>,
    /// The last model trained here per experiment, for the overlay and the comparison.
    pub trained_here: RwSignal<Vec<ShownModel>, LocalStorage>,
}

impl Training {
    pub fn new() -> Self {
        Self {
            figures: RwSignal::new(RunFigures::default()),
            reconstructions: RwSignal::new(None),
            paused: RwSignal::new(false),
            control: StoredValue::new_local(None),
            trained_here: RwSignal::new_local(Vec::new()),
        }
    }

    /// The finished runs of this session, as the curves overlay them.
    pub fn finished_runs(&self) -> Vec<FinishedRun> {
        self.trained_here.with(|runs| runs.iter().map(|m| FinishedRun { experiment: m.record.experiment, history: m.record.history.clone() }).collect())
    }

    fn command(&self, command: Command) {
        self.control.with_value(|c| c.as_ref().map(|c| c.set(command)));
    }
}

impl Page {
    /// Trains the settings' experiment on the page's backend: from fresh weights, or for
    /// denoising and dropout with `from=tied`, from the tied model's, as the chapter does.
    pub fn train(self) {
        if self.is_training() {
            return;
        }
        let Some(Backend { device, info }) = self.backend.get_untracked() else { return };
        let settings = self.settings.get_untracked();
        let config = run::training_config(&settings, info.kind);
        if !(settings.from_tied && settings.experiment.builds_on_tied()) {
            match Trainer::new(config, &device) {
                Ok(trainer) => self.run(trainer, settings, info, None),
                Err(e) => self.fail(Message::SettingsRejected { why: e.to_string() }),
            }
            return;
        }
        spawn_local(async move {
            let (bytes, source) = match self.tied_weights(&device).await {
                Ok(tied) => tied,
                Err(message) => return self.fail(message),
            };
            match Trainer::from_weights(config, &bytes, 0, &device) {
                Ok(trainer) if !self.is_training() => self.run(trainer, settings, info, Some(source)),
                Ok(_) => {}
                Err(e) => self.fail(Message::SettingsRejected { why: e.to_string() }),
            }
        });
    }

    /// The tied model's weights and where they come from: the one trained here, else the
    /// pretrained one.
    async fn tied_weights(self, device: &Device) -> Result<(Vec<u8>, String), Message> {
        let here = self.training.trained_here.with_untracked(|runs| runs.iter().find(|m| m.record.experiment == Experiment::Tied).cloned());
        let (trainer, record) = match here {
            Some(model) => (model.trainer, model.record),
            None => {
                let (trainer, record) = files::pretrained_model(Experiment::Tied, device).await.map_err(|_| Message::NoTiedModel)?;
                (Rc::new(trainer), record)
            }
        };
        let bytes = trainer.weights(&record).await.map_err(|_| Message::NoTiedModel)?;
        let source = format!("{}, {} epochs, seed {}", record.source, record.epochs, record.seed);
        Ok((bytes, source))
    }

    fn run(self, trainer: Trainer, settings: Settings, info: BackendInfo, started_from: Option<String>) {
        let control = RunControl::new();
        let training = self.training;
        training.control.set_value(Some(control.clone()));
        self.cancel_showing();
        let note = match &started_from {
            Some(source) => Message::TrainingFromTied { experiment: settings.experiment, source: source.clone() },
            None => Message::TrainingFresh(settings.experiment),
        };
        self.shown.set(Some(Shown { note, model: None }));
        self.comparison.value().set(None);
        training.figures.set(RunFigures::default());
        training.reconstructions.set(None);
        training.paused.set(false);
        self.error.set(None);
        self.phase.set(Phase::Training);
        spawn_local(async move {
            let mut run = Run::new(trainer, info.kind, control);
            let report_every = Rc::new(Cell::new(run::report_every(info.kind)));
            let emit = {
                let report_every = report_every.clone();
                move |event: RunEvent| self.take_in(event, &report_every)
            };
            let dataset = self.data.dataset;
            let result = run.train(&settings, move || dataset.get_untracked(), move || self.sample(), emit).await;
            self.finish(run.into_trainer(), settings.experiment, started_from, result);
        });
    }

    /// What one of the run's events changes on the page.
    fn take_in(self, event: RunEvent, report_every: &Cell<usize>) {
        self.training.figures.update(|f| f.apply(&event, report_every.get()));
        match event {
            RunEvent::Reconstructions(r) => self.training.reconstructions.set(Some(r)),
            RunEvent::MovedToCpu { kept, why } => {
                let note = Message::MovedToCpu { why, kept };
                self.notify(Message::Sentence(Box::new(note.clone())));
                self.backend.set(Some(Backend { device: Device::flex(), info: BackendInfo { kind: BackendKind::Cpu, why: note } }));
                report_every.set(run::report_every(BackendKind::Cpu));
            }
            _ => {}
        }
    }

    /// Shows what the run trained (if it finished an epoch) and says how it ended.
    fn finish(self, trainer: Trainer, experiment: Experiment, started_from: Option<String>, result: Result<(), TrainError>) {
        let history = self.training.figures.with_untracked(|f| f.history.clone());
        if history.is_empty() {
            // A run that ended before its first epoch has nothing worth showing or saving.
            self.shown.set(None);
        } else {
            let record = RunRecord { started_from: started_from.clone(), ..RunRecord::of(&trainer, experiment, "trained in the browser".into(), history.clone()) };
            let note = Message::TrainedHere { experiment, epochs: record.epochs, seed: record.seed, from_tied: started_from };
            let model = ShownModel { trainer: Rc::new(trainer), record };
            self.training.trained_here.update(|runs| {
                runs.retain(|m| m.record.experiment != experiment);
                runs.push(model.clone());
            });
            self.shown.set(Some(Shown { note, model: Some(model) }));
        }
        match result {
            Ok(()) | Err(TrainError::Stopped) => self.phase.set(Phase::Done),
            Err(e) => {
                self.fail(Message::RunFailed { error: RunError::of(&e), epochs_done: history.len() });
                self.phase.set(Phase::Error);
            }
        }
    }

    /// Pauses the run, or resumes it.
    pub fn pause_or_resume(self) {
        let pausing = !self.training.paused.get_untracked();
        self.training.paused.set(pausing);
        self.training.command(if pausing { Command::Pause } else { Command::Run });
    }

    /// Stops the run after the step under way; finished epochs stay.
    pub fn stop(self) {
        self.training.paused.set(false);
        self.training.command(Command::Stop);
    }
}
