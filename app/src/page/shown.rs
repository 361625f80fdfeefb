//! The shown model: pretrained, loaded from a file, or trained here; showing one, saving it.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use model::weights::RunRecord;
use model::{Experiment, Trainer};
use web_sys::File;

use super::{Backend, Page};
use crate::browser;
use crate::figures::RunFigures;
use crate::files;
use crate::run;
use crate::settings::Settings;
use crate::text::Message;

/// What the page says it shows, and the model itself (none while a run trains it).
#[derive(Clone)]
pub struct Shown {
    pub note: Message,
    pub model: Option<ShownModel>,
}

/// A model that can be explored, compared and saved, with what is known of how it was trained.
#[derive(Clone)]
pub struct ShownModel {
    pub trainer: Rc<Trainer>,
    pub record: RunRecord,
}

/// The same model, not an equal one: the tools' results belong to one model.
impl PartialEq for ShownModel {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.trainer, &other.trainer)
    }
}

/// A model to show that needs no training here.
#[derive(Clone)]
pub enum Wanted {
    Pretrained(Experiment),
    /// Weights the visitor picked, for these settings' experiment.
    File(File, Settings),
}

/// Why a wanted model is not shown.
#[derive(Clone)]
pub enum NotShown {
    /// The site ships no usable pretrained model for the experiment: nothing is shown.
    NoPretrained(Message),
    /// The file could not be read as weights: what was shown stays.
    Unreadable(Message),
}

/// Loads what is wanted, on the page's device; the latest request's result is kept.
pub(super) fn showing_action(backend: RwSignal<Option<Backend>, LocalStorage>) -> Action<Wanted, Result<(ShownModel, Message), NotShown>> {
    Action::new_local(move |wanted: &Wanted| {
        let wanted = wanted.clone();
        async move {
            let Some(Backend { device, info }) = backend.get_untracked() else { return Err(NotShown::Unreadable(Message::StillStarting)) };
            match wanted {
                Wanted::Pretrained(experiment) => {
                    let (trainer, record) = files::pretrained_model(experiment, &device)
                        .await
                        .map_err(|e| NotShown::NoPretrained(Message::NoPretrained { experiment, why: e.to_string() }))?;
                    let note = Message::Pretrained { experiment, epochs: record.epochs, seed: record.seed, source: record.source.clone() };
                    Ok((ShownModel { trainer: Rc::new(trainer), record }, note))
                }
                Wanted::File(file, settings) => {
                    let (name, experiment) = (file.name(), settings.experiment);
                    let failed = |why: String| NotShown::Unreadable(Message::Unreadable { experiment, name: name.clone(), why });
                    let bytes = browser::read_file(&file).await.map_err(failed)?;
                    let config = run::training_config(&settings, info.kind);
                    let trainer = Trainer::from_weights(config, &bytes, 0, &device).map_err(|e| failed(e.to_string()))?;
                    let record = RunRecord::of(&trainer, experiment, format!("weights loaded from {name}"), Vec::new());
                    Ok((ShownModel { trainer: Rc::new(trainer), record }, Message::Loaded { experiment, name }))
                }
            }
        }
    })
}

impl Page {
    /// Shows the pretrained model of the settings' experiment.
    pub fn show_pretrained(self) {
        let experiment = self.settings.with_untracked(|s| s.experiment);
        self.request(Wanted::Pretrained(experiment));
    }

    /// Shows the weights in `file`, as the settings' experiment.
    pub fn load_weights(self, file: File) {
        self.request(Wanted::File(file, self.settings.get_untracked()));
    }

    fn request(self, wanted: Wanted) {
        let handle = self.showing.dispatch_local(wanted);
        self.show_request.set_value(Some(handle));
    }

    /// A run starts: a model still loading must never replace it when it arrives.
    pub(super) fn cancel_showing(self) {
        if let Some(handle) = self.show_request.try_update_value(Option::take).flatten() {
            handle.abort();
        }
    }

    /// Picking another experiment when no run is going shows its pretrained model.
    pub(super) fn follow_experiment(self) {
        Effect::new(move |previous: Option<Experiment>| {
            let experiment = self.settings.with(|s| s.experiment);
            if previous.is_some_and(|p| p != experiment) && self.data.usable() && !self.is_training() {
                self.show_pretrained();
            }
            experiment
        });
    }

    /// Shows each model loaded for showing, unless a run started meanwhile.
    pub(super) fn follow_showing(self) {
        Effect::new(move |_| {
            let Some(result) = self.showing.value().get() else { return };
            if self.is_training() {
                return;
            }
            match result {
                Ok((model, note)) => self.show(model, note),
                Err(NotShown::NoPretrained(message)) => {
                    self.shown.set(None);
                    self.training.figures.set(RunFigures::default());
                    self.training.reconstructions.set(None);
                    self.notify(message);
                }
                Err(NotShown::Unreadable(message)) => self.fail(message),
            }
        });
    }

    /// Shows `model`: its history; its reconstructions and map follow from it.
    fn show(self, model: ShownModel, note: Message) {
        self.training.figures.set(RunFigures::of_history(model.record.history.clone()));
        self.training.reconstructions.set(None);
        self.error.set(None);
        self.shown.set(Some(Shown { note, model: Some(model) }));
    }

    /// The shown model, if one is there to explore or save.
    pub fn shown_model(&self) -> Option<ShownModel> {
        self.shown.with_untracked(|s| s.as_ref().and_then(|s| s.model.clone()))
    }

    /// Offers the shown model's weights as a `.safetensors` file.
    pub fn save_weights(self) {
        let Some(ShownModel { trainer, record }) = self.shown_model() else { return };
        spawn_local(async move {
            let saved = trainer.weights(&record).await.map_err(|e| e.to_string());
            let name = format!("{}.safetensors", record.experiment);
            if let Err(e) = saved.and_then(|bytes| browser::download(&name, &bytes, "application/octet-stream")) {
                self.fail(Message::SaveWeightsFailed { why: e.to_string() });
            }
        });
    }

    /// Offers the shown model's record (settings and history) as JSON.
    pub fn save_history(self) {
        let Some(ShownModel { record, .. }) = self.shown_model() else { return };
        let json = serde_json::to_string_pretty(&record).unwrap_or_default();
        if let Err(e) = browser::download(&format!("{}-history.json", record.experiment), json.as_bytes(), "application/json") {
            self.fail(Message::SaveHistoryFailed { why: e.to_string() });
        }
    }
}
