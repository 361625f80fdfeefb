//! A run on the page: Train, Pause and Stop, and what the run's events change. The run itself
//! trains in the engine; the page draws what it reports.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::messages::{Control, ModelRef, Reply, Request, RequestId, RunEnd, RunError, RunEvent};
use protocol::{Experiment, RunRecord};

use super::{Page, Shown, ShownModel};
use crate::engine::{Answer, Engine, Failure};
use crate::figures::{FinishedRun, RunFigures};
use crate::settings::Settings;
use crate::state::Phase;
use crate::text::Message;

/// The run's id until the engine has its request.
const PLACEHOLDER: RequestId = RequestId::MAX;

/// The run being trained (or last trained), and the models trained here.
#[derive(Clone, Copy)]
pub struct Training {
    pub figures: RwSignal<RunFigures>,
    /// The run's latest reconstructions.
    pub reconstructions: RwSignal<Option<protocol::Reconstructions>>,
    pub paused: RwSignal<bool>,
    /// The run under way (or starting), by its request.
    pub(super) run: StoredValue<Option<RequestId>>,
    /// Stop was pressed before the engine had the run's request.
    stop_wanted: StoredValue<bool>,
    /// A run could not start for want of data: Train waits for a Retry.
    pub blocked: RwSignal<bool>,
    /// The last model trained here per experiment, for the overlay and the comparison.
    pub trained_here: RwSignal<Vec<ShownModel>, LocalStorage>,
}

impl Training {
    pub fn new() -> Self {
        Self {
            figures: RwSignal::new(RunFigures::default()),
            reconstructions: RwSignal::new(None),
            paused: RwSignal::new(false),
            run: StoredValue::new(None),
            stop_wanted: StoredValue::new(false),
            blocked: RwSignal::new(false),
            trained_here: RwSignal::new_local(Vec::new()),
        }
    }

    /// The finished runs of this session, as the curves overlay them.
    pub fn finished_runs(&self) -> Vec<FinishedRun> {
        self.trained_here.with(|runs| runs.iter().map(|m| FinishedRun { experiment: m.record.experiment, history: m.record.history.clone() }).collect())
    }

    /// The run under way reconstructs `sample` from its next epoch on.
    pub fn resample(&self, engine: &Engine, sample: Vec<usize>) {
        if let Some(run) = self.run.get_value() {
            engine.control(run, Control::Sample(sample));
        }
    }

    fn control(&self, engine: &Engine, control: Control) {
        match self.run.get_value() {
            Some(PLACEHOLDER) => self.stop_wanted.set_value(control == Control::Stop),
            Some(run) => engine.control(run, control),
            None => {}
        }
    }

    /// A run is on its way: its data, backend or starting weights are still coming.
    pub fn is_starting(&self, phase: Phase) -> bool {
        phase == Phase::Loading && self.run.get_value().is_some()
    }
}

impl Page {
    /// Trains the settings' experiment in the engine, once its data is in: from fresh weights,
    /// or for denoising and dropout with `from=tied`, from the tied model's, as the chapter does.
    pub fn train(self) {
        if self.training.run.get_value().is_some() || !self.can_train_untracked() {
            return;
        }
        self.go_live();
        let settings = self.settings.get_untracked();
        let from_tied = settings.from_tied && settings.experiment.builds_on_tied();
        self.cancel_showing();
        self.shown.set(Some(Shown { note: Message::TrainingFresh(settings.experiment), model: None }));
        self.comparison.value().set(None);
        self.training.figures.set(RunFigures::default());
        self.training.reconstructions.set(None);
        self.training.paused.set(false);
        self.error.set(None);
        // A placeholder until the engine has the request: Train cannot start a second run.
        self.training.run.set_value(Some(PLACEHOLDER));
        self.training.stop_wanted.set_value(false);
        // Loading until the engine has the run's data and trains.
        self.phase.set(Phase::Loading);
        let engine = self.engine();
        spawn_local(async move {
            let start = if from_tied {
                match self.tied_model().await {
                    Ok(tied) => Some(tied),
                    Err(message) => {
                        self.training.run.set_value(None);
                        self.phase.set(Phase::Error);
                        return self.fail(message);
                    }
                }
            } else {
                None
            };
            let (start_from, started_from) = start.unzip();
            if let Some(source) = &started_from {
                let note = Message::TrainingFromTied { experiment: settings.experiment, source: source.clone() };
                self.shown.set(Some(Shown { note, model: None }));
            }
            let request = Request::Train(settings.run_settings(start_from, self.sample()));
            let (id, ended) = engine.run(request, move |event| self.take_in(event));
            self.training.run.set_value(Some(id));
            if self.training.stop_wanted.get_value() {
                engine.control(id, Control::Stop);
            }
            let answer = ended.await;
            self.training.run.set_value(None);
            self.finish(&settings, started_from, answer);
        });
    }

    fn can_train_untracked(&self) -> bool {
        untrack(|| self.can_train())
    }

    /// The tied model to start from, and where it comes from: the one trained here, else the
    /// pretrained one.
    async fn tied_model(self) -> Result<(ModelRef, String), Message> {
        let here = self.training.trained_here.with_untracked(|runs| runs.iter().find(|m| m.record.experiment == Experiment::Tied).cloned());
        let (model, record) = match here {
            Some(model) => (model.model, model.record),
            None => (ModelRef::Pretrained(Experiment::Tied), super::shown::pretrained_view(Experiment::Tied).await.map_err(|_| Message::NoTiedModel)?.record),
        };
        Ok((model, format!("{}, {} epochs, seed {}", record.source, record.epochs, record.seed)))
    }

    /// What one of the run's events changes on the page.
    fn take_in(self, event: RunEvent) {
        // The page says Paused at the click; the engine hears it a report or so later. Those
        // last steps' reports would move a paused page's figures: they hold still until Resume.
        if matches!(event, RunEvent::Progress(_)) && self.training.paused.get_untracked() {
            return;
        }
        self.training.figures.update(|f| f.apply(&event));
        match event {
            RunEvent::Started => self.phase.set(Phase::Training),
            RunEvent::Reconstructions(r) => self.training.reconstructions.set(Some(r)),
            RunEvent::MovedToCpu { kept, why } => self.notify(Message::Sentence(Box::new(Message::MovedToCpu { why, kept }))),
            RunEvent::Progress(_) | RunEvent::Validating { .. } | RunEvent::Epoch(_) => {}
        }
    }

    /// Shows what the run trained (if it finished an epoch) and says how it ended.
    fn finish(self, settings: &Settings, started_from: Option<String>, answer: Answer) {
        let end = match answer {
            Ok(Reply::RunEnded(end)) => end,
            Ok(_) => RunEnd { model: None, epochs_done: 0, result: Err(RunError::Other("the engine answered something else".into())) },
            Err(failure) => {
                // A failed engine is on the page already; a refused request is said here.
                if let Failure::Refused(why) = failure {
                    self.fail(Message::SettingsRejected { why });
                }
                self.shown.set(None);
                return self.phase.set(Phase::Error);
            }
        };
        let history = self.training.figures.with_untracked(|f| f.history.clone());
        let experiment = settings.experiment;
        match end.model {
            // A run that ended before its first epoch has nothing worth showing or saving.
            None => self.shown.set(None),
            Some(id) => {
                let record = RunRecord {
                    experiment,
                    epochs: end.epochs_done,
                    batch_size: settings.batch_size,
                    learning_rate: settings.learning_rate,
                    seed: settings.seed,
                    source: "trained in the browser".into(),
                    history,
                    started_from: started_from.clone(),
                    map: Vec::new(),
                };
                let note = Message::TrainedHere { experiment, epochs: record.epochs, seed: record.seed, from_tied: started_from };
                let model = ShownModel { model: ModelRef::Made(id), record, precomputed: None };
                self.training.trained_here.update(|runs| {
                    runs.retain(|m| m.record.experiment != experiment);
                    runs.push(model.clone());
                });
                self.shown.set(Some(Shown { note, model: Some(model) }));
            }
        }
        match end.result {
            Ok(()) | Err(RunError::Stopped) => self.phase.set(Phase::Done),
            // The data status names the files, with a Retry that starts the run.
            Err(RunError::NoData(_)) => {
                self.training.blocked.set(true);
                self.phase.set(Phase::Error);
            }
            Err(RunError::Refused(why)) => {
                self.fail(Message::SettingsRejected { why });
                self.phase.set(Phase::Error);
            }
            Err(error) => {
                self.fail(Message::RunFailed { error, epochs_done: end.epochs_done });
                self.phase.set(Phase::Error);
            }
        }
    }

    /// Pauses the run, or resumes it.
    pub fn pause_or_resume(self) {
        let pausing = !self.training.paused.get_untracked();
        self.training.paused.set(pausing);
        self.training.control(&self.engine(), if pausing { Control::Pause } else { Control::Resume });
    }

    /// Stops the run after the step under way; finished epochs stay.
    pub fn stop(self) {
        self.training.paused.set(false);
        self.training.control(&self.engine(), Control::Stop);
    }
}
