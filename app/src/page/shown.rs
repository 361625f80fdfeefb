//! The shown model: pretrained (drawn from its first-view pack before any engine exists),
//! loaded from a file, or trained here; showing one, saving it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::messages::{ModelRef, Reply, Request};
use protocol::{Experiment, FirstView, Reconstructions, RunRecord};
use web_sys::File;

use super::{Data, Page};
use crate::browser;
use crate::engine::Engine;
use crate::figures::RunFigures;
use crate::settings::Settings;
use crate::text::Message;

/// Relative, so the page works from any sub-path.
const PRETRAINED_URL: &str = "pretrained/";

/// What the page says it shows, and the model itself (none while a run trains it).
#[derive(Clone)]
pub struct Shown {
    pub note: Message,
    pub model: Option<ShownModel>,
}

/// A model that can be explored, compared and saved, with what is known of how it was trained.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownModel {
    pub model: ModelRef,
    pub record: RunRecord,
    /// A pretrained model's reconstructions from its pack: which test images, and how.
    pub precomputed: Option<(Vec<usize>, Reconstructions)>,
}

impl ShownModel {
    /// Made in this session (trained here or loaded), so only the engine that made it has it.
    pub fn is_made(&self) -> bool {
        matches!(self.model, ModelRef::Made(_))
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

/// The first-view pack of `experiment`'s pretrained model.
pub async fn pretrained_view(experiment: Experiment) -> Result<FirstView, String> {
    let url = format!("{PRETRAINED_URL}{}", FirstView::file_name(experiment));
    let bytes = browser::fetch_bytes(&url).await?;
    FirstView::from_bytes(&bytes).map_err(|e| format!("{url}: {e}"))
}

/// Loads what is wanted; the latest request's result is kept. A pretrained model needs only
/// its pack; weights from a file go to the engine.
pub(super) fn showing_action(engine: StoredValue<Engine, LocalStorage>, data: Data) -> Action<Wanted, Result<(ShownModel, Message), NotShown>> {
    Action::new_local(move |wanted: &Wanted| {
        let wanted = wanted.clone();
        async move {
            match wanted {
                Wanted::Pretrained(experiment) => {
                    let view = pretrained_view(experiment)
                        .await
                        .map_err(|why| NotShown::NoPretrained(Message::NoPretrained { experiment, why }))?;
                    if data.labels.with_untracked(Option::is_none) {
                        data.labels.set(Some(std::rc::Rc::new(view.labels)));
                    }
                    let record = view.record;
                    let note = Message::Pretrained { experiment, epochs: record.epochs, seed: record.seed, source: record.source.clone() };
                    let precomputed = Some((view.sample, view.reconstructions));
                    Ok((ShownModel { model: ModelRef::Pretrained(experiment), record, precomputed }, note))
                }
                Wanted::File(file, asked) => {
                    let (name, experiment) = (file.name(), asked.experiment);
                    let failed = |why: String| NotShown::Unreadable(Message::Unreadable { experiment, name: name.clone(), why });
                    let bytes = browser::read_file(&file).await.map_err(failed)?;
                    let loaded = engine.get_value().ask(Request::Load { shape: asked.shape(), bytes }).await;
                    let id = match loaded {
                        Ok(Reply::Model(id)) => id,
                        Ok(_) => return Err(failed("the engine answered something else".into())),
                        Err(failure) => return Err(failed(failure.to_string())),
                    };
                    let record = RunRecord {
                        experiment,
                        epochs: 0,
                        batch_size: asked.batch_size,
                        learning_rate: asked.learning_rate,
                        seed: asked.seed,
                        source: format!("weights loaded from {name}"),
                        history: Vec::new(),
                        started_from: None,
                        map: Vec::new(),
                    };
                    Ok((ShownModel { model: ModelRef::Made(id), record, precomputed: None }, Message::Loaded { experiment, name }))
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
        self.go_live();
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
            if previous.is_some_and(|p| p != experiment) && self.idle() && !self.is_training() {
                self.show_pretrained();
            }
            experiment
        });
    }

    /// Shows each model loaded for showing, unless a run started meanwhile. The first one
    /// (or its absence) makes the page ready.
    pub(super) fn follow_showing(self) {
        Effect::new(move |_| {
            let Some(result) = self.showing.value().get() else { return };
            if self.training.run.get_value().is_some() {
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
            self.on_first_view();
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

    /// Models made here that nothing shows or keeps any more: the engine lets them go.
    pub(super) fn release_forgotten_models(self) {
        Effect::new(move |previous: Option<Vec<u32>>| {
            let mut kept: Vec<u32> = self.training.trained_here.with(|runs| runs.iter().filter_map(|m| made_id(m.model)).collect());
            kept.extend(self.shown.with(|s| s.as_ref().and_then(|s| s.model.as_ref()).and_then(|m| made_id(m.model))));
            for id in previous.unwrap_or_default().into_iter().filter(|id| !kept.contains(id)) {
                self.engine().forget(id);
            }
            kept
        });
    }

    /// Offers the shown model's weights as a `.safetensors` file.
    pub fn save_weights(self) {
        let Some(ShownModel { model, record, .. }) = self.shown_model() else { return };
        let engine = self.engine();
        spawn_local(async move {
            let name = format!("{}.safetensors", record.experiment);
            let saved = match engine.ask(Request::Weights { model, record }).await {
                Ok(Reply::Bytes(bytes)) => browser::download(&name, &bytes, "application/octet-stream"),
                Ok(_) => Err("the engine answered something else".into()),
                Err(failure) => Err(failure.to_string()),
            };
            if let Err(why) = saved {
                self.fail(Message::SaveWeightsFailed { why });
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

fn made_id(model: ModelRef) -> Option<u32> {
    match model {
        ModelRef::Made(id) => Some(id),
        ModelRef::Pretrained(_) => None,
    }
}
