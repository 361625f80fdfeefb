//! The page: owns every signal, starts the backend and the data, and runs training.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use model::burn::prelude::Device;
use model::weights::RunRecord;
use model::{EpochRecord, Experiment, Progress, TrainError, Trainer, TrainingConfig};

use crate::backend::{self, BackendInfo, BackendKind};
use crate::components::{
    BackendNote, Controls, Curves, DataProgress, EmbeddingPanel, ErrorBanner, FinishedRun, HistoryTable, LivePoint,
    Notices, ReconstructionPanel, WeightsControls,
};
use crate::embedding::{self, MapState, Mapper};
use crate::data::{self, Dataset, LoadProgress};
use crate::run::{self, Command, Reconstructions, RunControl, RunEvent};
use crate::files;
use crate::settings::{Panel, Settings};
use crate::state::Phase;

const SHOWN: usize = crate::components::RECONSTRUCTIONS_SHOWN;

/// The compute-side values the page keeps between runs; never read by components.
#[derive(Clone, Default)]
struct Compute {
    device: Rc<RefCell<Option<(Device, BackendKind)>>>,
    dataset: Rc<RefCell<Dataset>>,
    /// The last run's trainer, for reconstructions of other images after it ends.
    trainer: Rc<RefCell<Option<Rc<Trainer>>>>,
    control: Rc<RefCell<Option<RunControl>>>,
    mapper: Mapper,
    /// Bumped whenever something new is shown (a run starts, pretrained or imported weights):
    /// a slower load that finishes later must not overwrite it.
    shown_token: Rc<Cell<u64>>,
    /// The record of what is shown, for "Save history".
    record: Rc<RefCell<Option<RunRecord>>>,
}

impl Compute {
    fn next_token(&self) -> u64 {
        self.shown_token.set(self.shown_token.get() + 1);
        self.shown_token.get()
    }

    fn is_current(&self, token: u64) -> bool {
        self.shown_token.get() == token
    }
}

fn url_settings() -> (Settings, Vec<String>) {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
    let pairs: Vec<(String, String)> = params
        .map(|p| {
            js_sys::try_iter(&p)
                .ok()
                .flatten()
                .into_iter()
                .flatten()
                .filter_map(|entry| {
                    let entry: js_sys::Array = entry.ok()?.into();
                    Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
                })
                .collect()
        })
        .unwrap_or_default();
    Settings::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// `count` distinct test-image indices, at random.
fn random_sample(count: usize, of: usize) -> Vec<usize> {
    let mut chosen = Vec::with_capacity(count);
    while chosen.len() < count.min(of) {
        let index = (js_sys::Math::random() * of as f64) as usize;
        if !chosen.contains(&index) {
            chosen.push(index);
        }
    }
    chosen
}

#[component]
pub fn App() -> impl IntoView {
    let (initial, warnings) = url_settings();
    let autostart = initial.autostart;
    let settings = RwSignal::new(initial);
    let notices = RwSignal::new(warnings);
    let phase = RwSignal::new(Phase::Loading);
    let error = RwSignal::new(None::<String>);
    let backend = RwSignal::new(None::<BackendInfo>);
    let load = RwSignal::new(LoadProgress::default());
    let history = RwSignal::new(Vec::<EpochRecord>::new());
    let live = RwSignal::new(Vec::<LivePoint>::new());
    let progress = RwSignal::new(None::<Progress>);
    let reconstructions = RwSignal::new(None::<Reconstructions>);
    let finished = RwSignal::new(Vec::<FinishedRun>::new());
    // The test images to reconstruct live in the settings (and so in the URL).
    let sample = move || settings.with_untracked(|s| s.images.clone()).unwrap_or_else(|| (0..SHOWN).collect::<Vec<_>>());
    let shown = RwSignal::new(None::<String>);
    let paused = RwSignal::new(false);
    let validating = RwSignal::new(None::<(usize, usize)>);
    let data_ready = RwSignal::new(false);
    let map = RwSignal::new(None::<MapState>);
    let test_images = RwSignal::new_local(None::<Rc<model::data::LabeledImages>>);
    let compute = StoredValue::new_local(Compute::default());

    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-state", phase.get().as_str());
        }
    });

    let start_training = move || {
        if phase.get_untracked() == Phase::Training {
            return;
        }
        let compute = compute.get_value();
        let Some((device, kind)) = compute.device.borrow().clone() else { return };
        let settings = settings.get_untracked();
        let trainer = match Trainer::new(run::training_config(&settings, kind), &device) {
            Ok(trainer) => trainer,
            Err(e) => {
                error.set(Some(format!("Cannot train with these settings: {e}")));
                return;
            }
        };
        let control = RunControl::new();
        *compute.control.borrow_mut() = Some(control.clone());
        let token = compute.next_token();
        shown.set(Some(format!("Training {} from scratch here.", settings.experiment)));
        history.set(Vec::new());
        live.set(Vec::new());
        progress.set(None);
        validating.set(None);
        reconstructions.set(None);
        compute.mapper.stop();
        map.set(None);
        error.set(None);
        paused.set(false);
        phase.set(Phase::Training);
        let report_every = trainer.config().report_every;
        spawn_local(async move {
            let mut trainer = trainer;
            let on_event = move |event: RunEvent| match event {
                RunEvent::Progress(p) => {
                    // A curve point every ~50 steps keeps redraws cheap; the status line gets all.
                    if p.step % 50 < report_every || p.step == p.steps {
                        live.update(|points| {
                            let epoch = (p.epoch - 1) as f64 + p.step as f64 / p.steps as f64;
                            points.push(LivePoint { epoch, loss: p.loss, rounded_accuracy: p.rounded_accuracy });
                        });
                    }
                    progress.set(Some(p));
                }
                RunEvent::Validating { done, total } => validating.set(Some((done, total))),
                RunEvent::Epoch(record) => {
                    validating.set(None);
                    history.update(|h| h.push(record));
                }
                RunEvent::Reconstructions(r) => reconstructions.set(Some(r)),
            };
            let dataset = compute.dataset.clone();
            let result = run::train(
                &mut trainer,
                &settings,
                move || dataset.borrow().clone(),
                sample,
                &control,
                on_event,
            )
            .await;
            if compute.is_current(token) {
                let record = RunRecord::of(&trainer, settings.experiment, "trained in the browser".into(), history.get_untracked());
                shown.set(Some(format!("Trained here: {} ({} epochs, seed {}).", record.experiment, record.epochs, record.seed)));
                *compute.record.borrow_mut() = Some(record);
            }
            *compute.trainer.borrow_mut() = Some(Rc::new(trainer));
            match result {
                Ok(()) | Err(TrainError::Stopped) => phase.set(Phase::Done),
                Err(e) => {
                    error.set(Some(match e {
                        TrainError::Device(_) => format!("The GPU stopped working ({e}). Reload the page, or add ?backend=cpu to the URL."),
                        _ => format!("Training stopped: {e}. What was trained so far stays on screen."),
                    }));
                    phase.set(Phase::Error);
                }
            }
            if !history.get_untracked().is_empty() {
                start_map(&compute, map, error);
                let run = FinishedRun { experiment: settings.experiment, history: history.get_untracked() };
                finished.update(|runs| {
                    runs.retain(|r| r.experiment != run.experiment);
                    runs.push(run);
                });
            }
        });
    };

    let command = move |command: Command| {
        if let Some(control) = compute.get_value().control.borrow().as_ref() {
            control.set(command);
        }
    };
    let on_train = Callback::new(move |()| start_training());
    let on_pause = Callback::new(move |()| {
        let pausing = !paused.get_untracked();
        paused.set(pausing);
        command(if pausing { Command::Pause } else { Command::Run });
    });
    let on_stop = Callback::new(move |()| {
        paused.set(false);
        command(Command::Stop);
    });
    let on_other_images = Callback::new(move |()| {
        let compute = compute.get_value();
        let Some(test) = compute.dataset.borrow().test.clone() else { return };
        let indices = random_sample(SHOWN, test.len());
        settings.update(|s| s.images = Some(indices.clone()));
        // While training, the next epoch picks the new images up.
        if phase.get_untracked() == Phase::Training {
            return;
        }
        let Some(trainer) = compute.trainer.borrow().clone() else { return };
        spawn_local(async move {
            match run::reconstruct(&trainer, &test, &indices).await {
                Ok(r) => reconstructions.set(Some(r)),
                Err(e) => error.set(Some(format!("Could not draw reconstructions: {e}"))),
            }
        });
    });

    // Shows a model that needs no training here: its history, reconstructions and map.
    let show_model = move |trainer: Trainer, record: RunRecord, note: String, token: u64| {
        let compute = compute.get_value();
        let Some(test) = compute.dataset.borrow().test.clone() else { return };
        let trainer = Rc::new(trainer);
        *compute.trainer.borrow_mut() = Some(trainer.clone());
        history.set(record.history.clone());
        live.set(Vec::new());
        progress.set(None);
        validating.set(None);
        error.set(None);
        compute.mapper.stop();
        let precomputed = record.map.len() == 2 * test.len();
        map.set(precomputed.then(|| MapState {
            points: record.map.clone(),
            iteration: 1000,
            total: 1000,
            seconds: 0.0,
            done: true,
            precomputed: true,
        }));
        *compute.record.borrow_mut() = Some(record);
        shown.set(Some(note));
        if !precomputed {
            start_map(&compute, map, error);
        }
        let indices = sample();
        spawn_local(async move {
            match run::reconstruct(&trainer, &test, &indices).await {
                Ok(r) if compute.is_current(token) => reconstructions.set(Some(r)),
                Ok(_) => {}
                Err(e) => error.set(Some(format!("Could not draw reconstructions: {e}"))),
            }
        });
    };

    let show_pretrained = move |experiment: Experiment| {
        let compute = compute.get_value();
        let token = compute.next_token();
        spawn_local(async move {
            let loaded = files::fetch_pretrained(experiment).await;
            // Training may have started, or another experiment been picked, meanwhile.
            if !compute.is_current(token) || phase.get_untracked() == Phase::Training {
                return;
            }
            let Some((device, _)) = compute.device.borrow().clone() else { return };
            let shown_model = loaded.and_then(|(weights, record)| {
                let config = TrainingConfig::new(experiment.model_config())
                    .with_epochs(record.epochs)
                    .with_batch_size(record.batch_size)
                    .with_learning_rate(record.learning_rate)
                    .with_seed(record.seed);
                let trainer = Trainer::from_weights(config, &weights, record.epochs, &device).map_err(|e| e.to_string())?;
                Ok((trainer, record))
            });
            match shown_model {
                Ok((trainer, record)) => {
                    let note = format!(
                        "Pretrained: {experiment}, {} epochs, seed {} (trained with {}). Press Train to train it from scratch here.",
                        record.epochs, record.seed, record.source
                    );
                    show_model(trainer, record, note, token);
                }
                Err(e) => {
                    shown.set(None);
                    notices.update(|n| n.push(format!("No pretrained {experiment} model to show ({e}). Press Train to train one.")));
                    history.set(Vec::new());
                    reconstructions.set(None);
                    map.set(None);
                }
            }
        });
    };

    // Picking another experiment when no run is going shows its pretrained model.
    Effect::new(move |previous: Option<Experiment>| {
        let experiment = settings.with(|s| s.experiment);
        if previous.is_some_and(|p| p != experiment) && data_ready.get_untracked() && phase.get_untracked() != Phase::Training {
            show_pretrained(experiment);
        }
        experiment
    });

    // The URL always holds the settings, so the address bar is a link to this view.
    Effect::new(move |_| {
        let query = settings.with(|s| s.to_query());
        let Some(window) = web_sys::window() else { return };
        let Ok(params) = web_sys::UrlSearchParams::new() else { return };
        for (key, value) in &query {
            params.append(key, value);
        }
        let search = String::from(params.to_string());
        let path = window.location().pathname().unwrap_or_default();
        let url = if search.is_empty() { path } else { format!("{path}?{search}") };
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });

    let can_save = Signal::derive(move || shown.get().is_some() && phase.get() != Phase::Training);
    let can_load = Signal::derive(move || data_ready.get() && phase.get() != Phase::Training);
    let on_save_weights = Callback::new(move |()| {
        let compute = compute.get_value();
        let Some(trainer) = compute.trainer.borrow().clone() else { return };
        let Some(record) = compute.record.borrow().clone() else { return };
        spawn_local(async move {
            let saved = trainer.weights(&record).await.map_err(|e| e.to_string());
            let name = format!("{}.safetensors", record.experiment);
            if let Err(e) = saved.and_then(|bytes| files::download(&name, &bytes, "application/octet-stream")) {
                error.set(Some(format!("Could not save the weights: {e}")));
            }
        });
    });
    let on_save_history = Callback::new(move |()| {
        let compute = compute.get_value();
        let Some(record) = compute.record.borrow().clone() else { return };
        let json = serde_json::to_string_pretty(&record).unwrap_or_default();
        if let Err(e) = files::download(&format!("{}-history.json", record.experiment), json.as_bytes(), "application/json") {
            error.set(Some(format!("Could not save the history: {e}")));
        }
    });
    let on_load = Callback::new(move |file: web_sys::File| {
        let compute = compute.get_value();
        let experiment = settings.with_untracked(|s| s.experiment);
        spawn_local(async move {
            let name = file.name();
            let loaded = files::read(&file).await.and_then(|bytes| {
                let Some((device, kind)) = compute.device.borrow().clone() else { return Err("the page is still starting".into()) };
                let config = run::training_config(&settings.get_untracked(), kind);
                Trainer::from_weights(config, &bytes, 0, &device).map_err(|e| e.to_string())
            });
            match loaded {
                Ok(trainer) => {
                    let token = compute.next_token();
                    let record = RunRecord::of(&trainer, experiment, format!("weights loaded from {name}"), Vec::new());
                    show_model(trainer, record, format!("Loaded {experiment} weights from {name}."), token);
                }
                Err(e) => error.set(Some(format!("Could not load {name} as {experiment} weights: {e}. Nothing was changed."))),
            }
        });
    });
    let on_copy_link = Callback::new(move |()| {
        let Some(window) = web_sys::window() else { return };
        let href = window.location().href().unwrap_or_default();
        let _ = window.navigator().clipboard().write_text(&href);
        notices.update(|n| {
            n.retain(|line| !line.starts_with("Link copied"));
            n.push(format!("Link copied: {href}"));
        });
    });

    // Start the backend, then stream the data in; training may start once the first shards are in.
    spawn_local(async move {
        let (device, info) = backend::start(settings.get_untracked().backend).await;
        let compute = compute.get_value();
        *compute.device.borrow_mut() = Some((device, info.kind));
        backend.set(Some(info));
        let dataset = compute.dataset.clone();
        let loaded = data::load(move |data, so_far| {
            let usable = data.is_usable();
            if test_images.with_untracked(Option::is_none) {
                test_images.set(data.test.clone());
            }
            *dataset.borrow_mut() = data;
            load.set(so_far);
            if usable && !data_ready.get_untracked() {
                data_ready.set(true);
            }
            if usable && phase.get_untracked() == Phase::Loading {
                phase.set(Phase::Ready);
                if autostart {
                    start_training();
                } else {
                    show_pretrained(settings.with_untracked(|s| s.experiment));
                }
            }
        })
        .await;
        if let Err(e) = loaded {
            error.set(Some(format!("{e}. Check your connection and reload the page; if it persists, the site's data files need regenerating (see the README).")));
            if phase.get_untracked() != Phase::Training {
                phase.set(Phase::Error);
            }
        }
    });

    let status = move || match (phase.get(), progress.get()) {
        (Phase::Training, Some(p)) if validating.get().is_some() => {
            let (done, total) = validating.get().unwrap_or_default();
            format!("Epoch {}: validating on the test images, {done} of {total}", p.epoch)
        }
        (Phase::Loading, _) => "Loading…".to_string(),
        (Phase::Ready, _) => "Ready: pick an experiment and press Train.".into(),
        (Phase::Training, Some(p)) => format!(
            "{}Epoch {} of {}, step {} of {}: running loss {:.4}, rounded accuracy {:.4}",
            if paused.get() { "Paused. " } else { "" },
            p.epoch,
            settings.get_untracked().epochs,
            p.step,
            p.steps,
            p.loss,
            p.rounded_accuracy
        ),
        (Phase::Training, None) => "Starting…".into(),
        (Phase::Done, _) => match history.get().len() {
            1 => "Done: 1 epoch trained.".to_string(),
            n => format!("Done: {n} epochs trained."),
        },
        (Phase::Error, _) => "Stopped by an error (see below).".into(),
    };
    let experiment = Signal::derive(move || settings.get().experiment);
    let epochs = Signal::derive(move || settings.get().epochs);

    // Parts a course page left out with hide=; fixed at load.
    let hidden = move |panel: Panel| !settings.with_untracked(|s| s.shows(panel));

    view! {
        <header class:omitted=hidden(Panel::Header)>
            <h1>"See autoencoders learn"</h1>
            <p class="lede">
                "Four stacked autoencoders from the textbook chapter, trained on Fashion-MNIST right here in your browser."
            </p>
        </header>
        <main>
            <section class="panel controls" aria-label="Settings" class:omitted=hidden(Panel::Controls)>
                <Controls settings phase paused data_ready on_train on_pause on_stop />
                <WeightsControls can_save can_load shown on_save_weights on_save_history on_load on_copy_link />
            </section>
            <section class="panel status" aria-label="Status" class:omitted=hidden(Panel::Status)>
                <BackendNote backend />
                <DataProgress load />
                <p class="status-line" aria-live="polite" data-testid="status">{status}</p>
                <Notices notices />
                <ErrorBanner error />
            </section>
            <section class="panel curves" aria-label="Learning curves" class:omitted=hidden(Panel::Curves)>
                <h2>"Learning curves"</h2>
                <Curves live history finished epochs experiment />
            </section>
            <section class="panel recon" aria-label="Reconstructions" class:omitted=hidden(Panel::Reconstructions)>
                <h2>"Reconstructions"</h2>
                <ReconstructionPanel reconstructions on_other_images />
            </section>
            <section class="panel embed" aria-label="Embedding" class:omitted=hidden(Panel::Map)>
                <h2>"Map of the codes"</h2>
                <EmbeddingPanel map test=test_images />
            </section>
            <section class="panel table" aria-label="History" class:omitted=hidden(Panel::Table)>
                <HistoryTable history />
            </section>
        </main>
    }
}

/// Encodes the test images with the last run's model and maps the codes with t-SNE in the worker.
fn start_map(compute: &Compute, map: RwSignal<Option<MapState>>, error: RwSignal<Option<String>>) {
    let compute = compute.clone();
    spawn_local(async move {
        let Some(test) = compute.dataset.borrow().test.clone() else { return };
        let Some(trainer) = compute.trainer.borrow().clone() else { return };
        match embedding::codes(&trainer, &test).await {
            Ok((codes, dim)) => compute.mapper.map(&codes, dim, move |update| match update {
                Ok(state) => map.set(Some(state)),
                Err(e) => error.set(Some(format!("The map of the codes failed: {e}"))),
            }),
            Err(e) => error.set(Some(format!("Could not encode the test images: {e}"))),
        }
    });
}
