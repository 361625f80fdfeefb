//! The page: owns every signal, starts the backend and the data, and runs training.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use model::burn::prelude::Device;
use model::data::{CLASS_NAMES, LabeledImages};
use model::latent::{Corruption, place_on_map};
use model::weights::RunRecord;
use model::{Experiment, TrainError, Trainer};

use crate::backend::{self, BackendInfo, BackendKind};
use crate::browser;
use crate::components::{
    BackendNote, ComparePanel, Compared, Controls, Curves, DataProgress, Drawn, EmbeddingPanel, ErrorBanner,
    ExplorePanel, HistoryTable, LoadErrors, Notices, ReconstructionPanel, WeightsControls,
};
use crate::compute::Compute;
use crate::data::{self, LoadProgress};
use crate::embedding::MapState;
use crate::figures::{self, FinishedRun, RunFigures};
use crate::files;
use crate::latent::{self, Corrupted, Look};
use crate::run::{self, Command, Reconstructions, Run, RunControl, RunEvent};
use crate::settings::{Panel, Palette, Settings};
use crate::state::Phase;

const SHOWN: usize = crate::components::RECONSTRUCTIONS_SHOWN;

fn url_settings() -> (Settings, Vec<String>) {
    let pairs = browser::query_pairs();
    Settings::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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
    let load_failures = RwSignal::new(Vec::<String>::new());
    let figures = RwSignal::new(RunFigures::default());
    let history = Memo::new(move |_| figures.with(|f| f.history.clone()));
    let live = Memo::new(move |_| figures.with(|f| f.live.clone()));
    let reconstructions = RwSignal::new(None::<Reconstructions>);
    let finished = RwSignal::new(Vec::<FinishedRun>::new());
    // The test images to reconstruct live in the settings (and so in the URL).
    let sample = move || settings.with_untracked(|s| s.images.clone()).unwrap_or_else(|| (0..SHOWN).collect::<Vec<_>>());
    let shown = RwSignal::new(None::<String>);
    let paused = RwSignal::new(false);
    let data_ready = RwSignal::new(false);
    let map = RwSignal::new(None::<MapState>);
    let test_images = RwSignal::new_local(None::<Rc<LabeledImages>>);
    let compute = StoredValue::new_local(Compute::default());

    // The latent tools: what they are given and what they show.
    let model_shown = RwSignal::new(0u64);
    let picked = RwSignal::new(Some(0usize));
    let look = RwSignal::new(None::<Look>);
    let corruption = RwSignal::new(Corruption { noise_stddev: 0.3, dropout_rate: 0.0 });
    let corrupted = RwSignal::new(None::<Corrupted>);
    let walk_ends = RwSignal::new((0usize, 1usize));
    let walk = RwSignal::new(None::<Vec<f32>>);
    let drawing = RwSignal::new(None::<Vec<f32>>);
    let drawn = RwSignal::new(None::<Drawn>);
    let comparison = RwSignal::new(None::<Vec<Compared>>);
    let comparing = RwSignal::new(false);

    Effect::new(move |_| browser::set_body_state(phase.get().as_str()));

    // Every change of the shown model goes through here, so the tools follow it.
    let show_trainer = move |trainer: Option<Rc<Trainer>>| {
        if trainer.is_none() {
            look.set(None);
            corrupted.set(None);
            walk.set(None);
            drawn.set(None);
        }
        compute.get_value().set_trainer(trainer);
        model_shown.update(|n| *n += 1);
    };

    let start_training = move || {
        if phase.get_untracked() == Phase::Training {
            return;
        }
        let compute = compute.get_value();
        let Some((device, kind)) = compute.device() else { return };
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
        show_trainer(None);
        comparison.set(None);
        figures.set(RunFigures::default());
        error.set(None);
        compute.mapper.stop();
        reconstructions.set(None);
        map.set(None);
        paused.set(false);
        phase.set(Phase::Training);
        spawn_local(async move {
            let mut run = Run::new(trainer, kind, control);
            let report = Rc::new(Cell::new(run::report_every(kind)));
            let emit = {
                let (compute, report) = (compute.clone(), report.clone());
                move |event: RunEvent| {
                    figures.update(|f| f.apply(&event, report.get()));
                    match event {
                        RunEvent::Reconstructions(r) => reconstructions.set(Some(r)),
                        RunEvent::MovedToCpu { kept, why } => {
                            let note = figures::moved_to_cpu_message(&why, kept);
                            notices.update(|n| n.push(format!("{note}.")));
                            backend.set(Some(BackendInfo { kind: BackendKind::Cpu, why: note }));
                            *compute.device.borrow_mut() = Some((Device::flex(), BackendKind::Cpu));
                            report.set(run::report_every(BackendKind::Cpu));
                        }
                        _ => {}
                    }
                }
            };
            let dataset = compute.dataset.clone();
            let result = run.train(&settings, move || dataset.borrow().clone(), sample, emit).await;
            let trainer = Rc::new(run.into_trainer());
            let current = compute.is_current(token);
            let history = figures.with_untracked(|f| f.history.clone());
            // A run that ended before its first epoch has nothing worth showing or saving.
            if current && history.is_empty() {
                shown.set(None);
            } else if current {
                let record = RunRecord::of(&trainer, settings.experiment, "trained in the browser".into(), history.clone());
                shown.set(Some(format!("Trained here: {} ({} epochs, seed {}).", record.experiment, record.epochs, record.seed)));
                let mut runs = compute.runs.borrow_mut();
                runs.retain(|run| run.0 != settings.experiment);
                runs.push((settings.experiment, trainer.clone(), record.clone()));
                drop(runs);
                *compute.record.borrow_mut() = Some(record);
                show_trainer(Some(trainer));
            }
            match result {
                Ok(()) | Err(TrainError::Stopped) => phase.set(Phase::Done),
                Err(e) => {
                    error.set(Some(figures::failure_message(&e, history.len())));
                    phase.set(Phase::Error);
                }
            }
            if current && !history.is_empty() {
                start_map(&compute, map, error);
                let run = FinishedRun { experiment: settings.experiment, history };
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
        let Some(test) = compute.test() else { return };
        let indices = browser::random_sample(SHOWN, test.len());
        settings.update(|s| s.images = Some(indices.clone()));
        // While training, the next epoch picks the new images up.
        let Some(trainer) = compute.trainer() else { return };
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
        let Some(test) = compute.test() else { return };
        let trainer = Rc::new(trainer);
        // What the run or model shown before left: its figures, a map being computed, an error.
        figures.set(RunFigures::of_history(record.history.clone()));
        error.set(None);
        compute.mapper.stop();
        // A drawing's place belongs to the old map; the drawing effect places it on the new one.
        drawn.update(|d| if let Some(d) = d.as_mut() { d.at = None });
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
        show_trainer(Some(trainer.clone()));
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
            let Some((device, _)) = compute.device() else { return };
            let loaded = files::pretrained_model(experiment, &device).await;
            // Training may have started, or another experiment been picked, meanwhile.
            if !compute.is_current(token) || phase.get_untracked() == Phase::Training {
                return;
            }
            match loaded {
                Ok((trainer, record)) => {
                    let note = format!(
                        "Pretrained: {experiment}, {} epochs, seed {} (trained with {}). Press Train to train it from scratch here.",
                        record.epochs, record.seed, record.source
                    );
                    show_model(trainer, record, note, token);
                }
                Err(e) => {
                    shown.set(None);
                    show_trainer(None);
                    notices.update(|n| n.push(format!("No pretrained {experiment} model to show ({e}). Press Train to train one.")));
                    figures.set(RunFigures::default());
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
    Effect::new(move |_| browser::replace_query(&settings.with(|s| s.to_query())));

    // The latent tools follow the shown model and their own inputs. A result that arrives
    // after the model or its inputs changed again is dropped.
    let still = move |version: u64| model_shown.get_untracked() == version;
    Effect::new(move |_| {
        let (version, index, compute) = (model_shown.get(), picked.get(), compute.get_value());
        let Some((trainer, test, index)) = shown_with_image(&compute, index) else { return };
        let job = async move { latent::look(&trainer, test.batch_pixels(&[index])).await.map_err(|e| format!("Could not encode test image {index}: {e}")) };
        in_background(job, move || still(version) && picked.get_untracked() == Some(index), move |r| look.set(Some(r)), error);
    });
    Effect::new(move |_| {
        let (version, level, index, compute) = (model_shown.get(), corruption.get(), picked.get(), compute.get_value());
        let Some((trainer, test, index)) = shown_with_image(&compute, index) else { return };
        let job = async move { latent::corrupted(&trainer, &test.batch_pixels(&[index]), level).await.map_err(|e| format!("Could not corrupt test image {index}: {e}")) };
        let fresh = move || still(version) && picked.get_untracked() == Some(index) && corruption.get_untracked() == level;
        in_background(job, fresh, move |r| corrupted.set(Some(r)), error);
    });
    Effect::new(move |_| {
        let (version, (from, to), compute) = (model_shown.get(), walk_ends.get(), compute.get_value());
        let Some((trainer, test, _)) = shown_with_image(&compute, Some(from.max(to))) else { return };
        let job = async move {
            let (a, b) = (test.batch_pixels(&[from]), test.batch_pixels(&[to]));
            latent::walk(&trainer, &a, &b).await.map_err(|e| format!("Could not walk between test images {from} and {to}: {e}"))
        };
        in_background(job, move || still(version) && walk_ends.get_untracked() == (from, to), move |r| walk.set(Some(r)), error);
    });
    let finished_map = Memo::new(move |_| map.with(|m| m.as_ref().filter(|m| m.done).map(|m| m.points.clone())));
    Effect::new(move |_| {
        let version = model_shown.get();
        let (points, compute) = (finished_map.get(), compute.get_value());
        let Some(pixels) = drawing.get() else {
            drawn.set(None);
            return;
        };
        let (Some(trainer), Some(test)) = (compute.trainer(), compute.test()) else { return };
        spawn_local(async move {
            let drawn_now = pixels.clone();
            let look = match latent::look(&trainer, pixels).await {
                Ok(look) => look,
                Err(e) => return error.set(Some(format!("Could not encode your drawing: {e}"))),
            };
            let placement = match &points {
                Some(points) => compute.test_codes().await.ok().and_then(|codes| place_on_map(&codes.values, codes.dim, points, &look.code, 10)),
                None => None,
            };
            // The model changed, or the pad was cleared or drawn on, meanwhile.
            if !still(version) || drawing.with_untracked(|d| d.as_ref() != Some(&drawn_now)) {
                return;
            }
            let at = placement.as_ref().map(|p| (p.x, p.y));
            let neighbours = placement.map(|p| classes_of(&p.neighbours, &test));
            drawn.set(Some(Drawn { look, neighbours, at }));
        });
    });
    let picked_class = Signal::derive(move || match (picked.get(), test_images.get()) {
        (Some(i), Some(test)) if i < test.len() => format!("test image {i}: {}", CLASS_NAMES[usize::from(test.label(i)) % 10]),
        _ => String::new(),
    });
    let tools_available = Signal::derive(move || phase.get() != Phase::Training && shown.get().is_some());
    let drawn_at = Signal::derive(move || drawn.with(|d| d.as_ref().and_then(|d| d.at)));
    let training = Signal::derive(move || phase.get() == Phase::Training);

    let on_compare = Callback::new(move |()| {
        let compute = compute.get_value();
        let (Some(test), Some((device, _))) = (compute.test(), compute.device()) else { return };
        comparing.set(true);
        let indices = sample();
        spawn_local(async move {
            let mut rows = Vec::new();
            for experiment in Experiment::ALL {
                let here = compute.runs.borrow().iter().find(|run| run.0 == experiment).map(|run| (run.1.clone(), run.2.clone()));
                let model = match here {
                    Some((trainer, record)) => Ok((trainer, record, true)),
                    None => files::pretrained_model(experiment, &device).await.map(|(t, r)| (Rc::new(t), r, false)),
                };
                let row = match model {
                    Ok((trainer, record, trained_here)) => run::reconstruct(&trainer, &test, &indices)
                        .await
                        .map(|r| Compared {
                            experiment,
                            trained_here,
                            parameters: trainer.config().model.parameter_count(),
                            history: record.history,
                            originals: r.originals,
                            outputs: r.outputs,
                        })
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                match row {
                    Ok(row) => rows.push(row),
                    Err(e) => notices.update(|n| n.push(format!("The comparison leaves out {experiment}: {e}"))),
                }
            }
            comparison.set(Some(rows));
            comparing.set(false);
        });
    });
    let can_compare = Signal::derive(move || data_ready.get() && phase.get() != Phase::Training);

    let can_save = Signal::derive(move || shown.get().is_some() && phase.get() != Phase::Training);
    let can_load = Signal::derive(move || data_ready.get() && phase.get() != Phase::Training);
    let on_save_weights = Callback::new(move |()| {
        let compute = compute.get_value();
        let Some(trainer) = compute.trainer() else { return };
        let Some(record) = compute.record.borrow().clone() else { return };
        spawn_local(async move {
            let saved = trainer.weights(&record).await.map_err(|e| e.to_string());
            let name = format!("{}.safetensors", record.experiment);
            if let Err(e) = saved.and_then(|bytes| browser::download(&name, &bytes, "application/octet-stream")) {
                error.set(Some(format!("Could not save the weights: {e}")));
            }
        });
    });
    let on_save_history = Callback::new(move |()| {
        let compute = compute.get_value();
        let Some(record) = compute.record.borrow().clone() else { return };
        let json = serde_json::to_string_pretty(&record).unwrap_or_default();
        if let Err(e) = browser::download(&format!("{}-history.json", record.experiment), json.as_bytes(), "application/json") {
            error.set(Some(format!("Could not save the history: {e}")));
        }
    });
    let on_load = Callback::new(move |file: web_sys::File| {
        let compute = compute.get_value();
        let experiment = settings.with_untracked(|s| s.experiment);
        spawn_local(async move {
            let name = file.name();
            let loaded = browser::read_file(&file).await.and_then(|bytes| {
                let Some((device, kind)) = compute.device() else { return Err("the page is still starting".into()) };
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
        let Some(href) = browser::copy_address() else { return };
        notices.update(|n| {
            n.retain(|line| !line.starts_with("Link copied"));
            n.push(format!("Link copied: {href}"));
        });
    });

    // Streams in what of the data is missing; training may start once the first shards are in.
    // Shards that fail are listed with a Retry, which calls this again.
    let load_data = move || {
        let compute = compute.get_value();
        load_failures.set(Vec::new());
        spawn_local(async move {
            let shared = compute.dataset.clone();
            let so_far = compute.dataset.borrow().clone();
            let failures = data::load(so_far, load.get_untracked(), move |data, so_far| {
                let usable = data.is_usable();
                if test_images.with_untracked(Option::is_none) && data.test.is_some() {
                    test_images.set(data.test.clone());
                }
                *shared.borrow_mut() = data;
                load.set(so_far);
                if usable && !data_ready.get_untracked() {
                    data_ready.set(true);
                    if matches!(phase.get_untracked(), Phase::Loading | Phase::Error) {
                        phase.set(Phase::Ready);
                        if autostart {
                            start_training();
                        } else {
                            show_pretrained(settings.with_untracked(|s| s.experiment));
                        }
                    }
                }
            })
            .await;
            if !failures.is_empty() && !data_ready.get_untracked() && phase.get_untracked() != Phase::Training {
                phase.set(Phase::Error);
            }
            load_failures.set(failures);
        });
    };
    let on_retry = Callback::new(move |()| load_data());

    spawn_local(async move {
        let (choice, batch_size) = settings.with_untracked(|s| (s.backend, s.batch_size));
        let (device, info) = backend::start(choice, batch_size).await;
        *compute.get_value().device.borrow_mut() = Some((device, info.kind));
        backend.set(Some(info));
        load_data();
    });

    let status = move || figures.with(|f| figures::status_line(phase.get(), paused.get(), f, settings.with_untracked(|s| s.epochs)));
    let experiment = Signal::derive(move || settings.get().experiment);
    let epochs = Signal::derive(move || settings.get().epochs);
    let palette = Signal::derive(move || settings.with(|s| s.palette));
    let on_palette = Callback::new(move |palette: Palette| settings.update(|s| s.palette = palette));
    let usable = Signal::derive(move || data_ready.get());

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
                <LoadErrors failures=load_failures usable on_retry />
                <p class="status-line" aria-live="polite" data-testid="status">{status}</p>
                <Notices notices />
                <ErrorBanner error />
            </section>
            <section class="panel curves" aria-label="Learning curves" class:omitted=hidden(Panel::Curves)>
                <h2>"Learning curves"</h2>
                <Curves live=live.into() history=history.into() finished epochs experiment />
            </section>
            <section class="panel recon" aria-label="Reconstructions" class:omitted=hidden(Panel::Reconstructions)>
                <h2>"Reconstructions"</h2>
                <ReconstructionPanel reconstructions on_other_images />
            </section>
            <section class="panel embed" aria-label="Embedding" class:omitted=hidden(Panel::Map)>
                <h2>"Map of the codes"</h2>
                <EmbeddingPanel map test=test_images picked drawn_at palette on_palette />
            </section>
            <section class="panel explore" aria-label="Explore the codes" class:omitted=hidden(Panel::Explore)>
                <h2>"Explore the codes"</h2>
                <ExplorePanel available=tools_available training picked picked_class look corruption corrupted walk_ends walk drawing drawn />
            </section>
            <section class="panel compare" aria-label="Compare the four experiments" class:omitted=hidden(Panel::Compare)>
                <h2>"Compare the four experiments"</h2>
                <ComparePanel comparison comparing can_compare columns=SHOWN on_compare />
            </section>
            <section class="panel table" aria-label="History" class:omitted=hidden(Panel::Table)>
                <HistoryTable history=history.into() />
            </section>
        </main>
    }
}

/// The shown model, the test images and `index`, if all are there.
fn shown_with_image(compute: &Compute, index: Option<usize>) -> Option<(Rc<Trainer>, Rc<LabeledImages>, usize)> {
    let (trainer, test, index) = (compute.trainer()?, compute.test()?, index?);
    (index < test.len()).then_some((trainer, test, index))
}

/// Runs `job` without blocking the page and hands its result to `done` if `fresh()` still
/// holds then (the inputs did not change meanwhile); an error goes to the banner.
fn in_background<T: 'static>(
    job: impl std::future::Future<Output = Result<T, String>> + 'static,
    fresh: impl Fn() -> bool + 'static,
    done: impl FnOnce(T) + 'static,
    error: RwSignal<Option<String>>,
) {
    spawn_local(async move {
        match job.await {
            Ok(value) if fresh() => done(value),
            Ok(_) => {}
            Err(e) => error.set(Some(e)),
        }
    });
}

/// "Sneaker (7), Sandal (3)": the classes of test images `indices`, most frequent first.
fn classes_of(indices: &[usize], test: &LabeledImages) -> String {
    let mut counts = [0usize; 10];
    for &i in indices.iter().filter(|&&i| i < test.len()) {
        counts[usize::from(test.label(i)) % 10] += 1;
    }
    let mut classes: Vec<(usize, usize)> = counts.into_iter().enumerate().filter(|&(_, n)| n > 0).collect();
    classes.sort_by(|a, b| b.1.cmp(&a.1));
    classes.iter().map(|&(class, n)| format!("{} ({n})", CLASS_NAMES[class])).collect::<Vec<_>>().join(", ")
}

/// Encodes the test images with the shown model and maps the codes with t-SNE in the worker.
fn start_map(compute: &Compute, map: RwSignal<Option<MapState>>, error: RwSignal<Option<String>>) {
    let compute = compute.clone();
    let Some(shown) = compute.trainer() else { return };
    spawn_local(async move {
        let codes = compute.test_codes().await;
        // Another model may have been shown while the test images were encoded.
        if !compute.trainer().is_some_and(|t| Rc::ptr_eq(&t, &shown)) {
            return;
        }
        match codes {
            Ok(codes) => compute.mapper.map(&codes.values, codes.dim, move |update| match update {
                Ok(state) => map.set(Some(state)),
                Err(e) => error.set(Some(format!("The map of the codes failed: {e}"))),
            }),
            Err(e) => error.set(Some(format!("Could not draw the map: {e}"))),
        }
    });
}
