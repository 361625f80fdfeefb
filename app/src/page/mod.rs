//! The page's state, shared with every panel through leptos context: the settings (and so the
//! URL), the data, the backend, the run, the shown model and what is derived from it (map,
//! latent tools, comparison). Its methods are what a visitor does.
//!
//! Async results that can go stale are leptos' own: resources keyed on their inputs (the map's
//! codes, the latent tools, reconstructions of the shown model) and actions (showing a model,
//! the comparison), which keep only the latest dispatch's result.

mod compare;
mod shown;
mod tools;
mod training;

use std::rc::Rc;

use leptos::prelude::*;
use leptos::reactive::actions::ActionAbortHandle;
use leptos::task::spawn_local;
use model::burn::prelude::Device;
use model::data::LabeledImages;

use crate::backend::{self, BackendInfo, BackendKind, Race};
use crate::browser;
use crate::data::{self, Dataset, LoadProgress};
use crate::settings::Settings;
use crate::state::Phase;
use crate::text::Message;

pub use compare::Compared;
pub use shown::{NotShown, Shown, ShownModel, Wanted};
pub use tools::{Drawn, NEAREST_SHOWN, Tools};
pub use training::Training;

/// The test images whose reconstructions are shown, unless the URL picks others.
pub const RECONSTRUCTIONS_SHOWN: usize = 6;

/// The Fashion-MNIST data: what is in, how far loading has come, what failed.
#[derive(Clone, Copy)]
pub struct Data {
    pub dataset: RwSignal<Dataset, LocalStorage>,
    pub progress: RwSignal<LoadProgress>,
    pub failures: RwSignal<Vec<String>>,
    /// Change only when usability or the test images do, not with every training shard.
    usable: Memo<bool>,
    test_key: Memo<Option<usize>>,
}

impl Data {
    fn new() -> Self {
        let dataset = RwSignal::new_local(Dataset::default());
        Self {
            dataset,
            progress: RwSignal::new(LoadProgress::default()),
            failures: RwSignal::new(Vec::new()),
            usable: Memo::new(move |_| dataset.with(Dataset::is_usable)),
            test_key: Memo::new(move |_| dataset.with(|d| d.test.as_ref().map(|t| t.len()))),
        }
    }

    /// Training can start: the test set and some training images are in.
    pub fn usable(&self) -> bool {
        self.usable.get()
    }

    /// The test images, once in (they arrive once).
    pub fn test(&self) -> Option<Rc<LabeledImages>> {
        self.test_key.track();
        self.dataset.with_untracked(|d| d.test.clone())
    }
}

/// The test images to reconstruct under `settings`: the URL's, else the first few.
pub fn sample_of(settings: &Settings) -> Vec<usize> {
    settings.images.clone().unwrap_or_else(|| (0..RECONSTRUCTIONS_SHOWN).collect())
}

/// Where training runs, and why there.
#[derive(Clone)]
pub struct Backend {
    pub device: Device,
    pub info: BackendInfo,
}

#[derive(Clone, Copy)]
pub struct Page {
    pub settings: RwSignal<Settings>,
    pub phase: RwSignal<Phase>,
    pub notices: RwSignal<Vec<Message>>,
    pub error: RwSignal<Option<Message>>,
    pub data: Data,
    pub backend: RwSignal<Option<Backend>, LocalStorage>,
    pub training: Training,
    pub shown: RwSignal<Option<Shown>, LocalStorage>,
    /// Showing a model not trained in this run: pretrained, or weights from a file.
    showing: Action<Wanted, Result<(ShownModel, Message), NotShown>>,
    show_request: StoredValue<Option<ActionAbortHandle>, LocalStorage>,
    /// A software adapter still to be timed against the CPU.
    pending_race: StoredValue<Option<Race>, LocalStorage>,
    pub tools: Tools,
    pub comparison: Action<(), Vec<Compared>>,
}

/// The page state provided by [`App`](crate::app::App).
pub fn use_page() -> Page {
    use_context::<Page>().expect("App provides the page state")
}

impl Page {
    /// The state of a page opened with this address's query.
    pub fn new() -> Self {
        let pairs = browser::query_pairs();
        let (settings, warnings) = Settings::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let settings = RwSignal::new(settings);
        let notices = RwSignal::new(warnings.into_iter().map(Message::UrlIgnored).collect());
        let data = Data::new();
        let shown = RwSignal::new_local(None);
        let backend = RwSignal::new_local(None);
        let training = Training::new();
        let error = RwSignal::new(None);
        Page {
            settings,
            phase: RwSignal::new(Phase::Loading),
            notices,
            error,
            data,
            backend,
            training,
            shown,
            showing: shown::showing_action(backend),
            show_request: StoredValue::new_local(None),
            pending_race: StoredValue::new_local(None),
            tools: Tools::new(tools::Inputs::new(shown, data, settings, error)),
            comparison: compare::comparison_action(settings, data, backend, training.trained_here, notices),
        }
    }

    /// Starts the page: its effects, the backend, then the data (training may start once the
    /// first shards are in).
    pub fn boot(self) {
        Effect::new(move |_| browser::set_body_state(self.phase.get().as_str()));
        // The URL always holds the settings, so the address bar is a link to this view.
        Effect::new(move |_| browser::replace_query(&self.settings.with(|s| s.to_query())));
        self.follow_experiment();
        self.follow_showing();
        self.tools.follow_shown_model();
        spawn_local(async move {
            let (choice, batch_size) = self.settings.with_untracked(|s| (s.backend, s.batch_size));
            let start = backend::start(choice, batch_size).await;
            self.backend.set(Some(Backend { device: start.device, info: start.info }));
            // A software adapter is timed once the data is in (its kernel compiles would slow
            // the loading down), while the page is already usable on the CPU.
            self.pending_race.set_value(start.later);
            self.load_data();
        });
    }

    /// Times a software adapter against the CPU the page already uses, and takes the winner,
    /// except that a run already going keeps its CPU (the note says so).
    async fn settle(self, race: Race) {
        let (device, mut info) = race.run().await;
        if info.kind == BackendKind::WebGpu && self.is_training() {
            info.why = Message::StaysOnCpu(Box::new(info.why));
            let device = self.backend.with_untracked(|b| b.as_ref().map(|b| b.device.clone())).unwrap_or_else(Device::flex);
            info.kind = BackendKind::Cpu;
            return self.backend.set(Some(Backend { device, info }));
        }
        self.backend.set(Some(Backend { device, info }));
    }

    /// Streams in what of the data is missing. Shards that fail are listed with a Retry, which
    /// calls this again.
    pub fn load_data(self) {
        let data = self.data;
        data.failures.set(Vec::new());
        spawn_local(async move {
            let so_far = data.dataset.get_untracked();
            let failures = data::load(so_far, data.progress.get_untracked(), move |dataset, progress| {
                let was_usable = data.dataset.with_untracked(Dataset::is_usable);
                let usable = dataset.is_usable();
                data.dataset.set(dataset);
                data.progress.set(progress);
                if !was_usable && usable {
                    self.on_data_usable();
                }
            })
            .await;
            if !failures.is_empty() && !data.dataset.with_untracked(Dataset::is_usable) && !self.is_training() {
                self.phase.set(Phase::Error);
            }
            data.failures.set(failures);
        });
    }

    fn on_data_usable(self) {
        if !matches!(self.phase.get_untracked(), Phase::Loading | Phase::Error) {
            return;
        }
        self.phase.set(Phase::Ready);
        if let Some(race) = self.pending_race.try_update_value(Option::take).flatten() {
            spawn_local(self.settle(race));
        }
        if self.settings.with_untracked(|s| s.autostart) {
            self.train();
        } else {
            self.show_pretrained();
        }
    }

    pub fn is_training(&self) -> bool {
        self.phase.get_untracked() == Phase::Training
    }

    /// The test images to reconstruct: the URL's, else the first few.
    pub fn sample(&self) -> Vec<usize> {
        self.settings.with_untracked(sample_of)
    }

    /// Shows `message` in the error banner.
    pub fn fail(&self, message: Message) {
        self.error.set(Some(message));
    }

    /// Adds a line to the notices, replacing an earlier one of its kind.
    pub fn notify(&self, message: Message) {
        self.notices.update(|n| {
            n.retain(|earlier| !message.replaces(earlier));
            n.push(message);
        });
    }

    /// The Train button works: data in, no run going.
    pub fn can_train(&self) -> bool {
        self.data.usable() && matches!(self.phase.get(), Phase::Ready | Phase::Done | Phase::Error)
    }

    /// No run is going and the page is up: models can be loaded and compared.
    pub fn idle_with_data(&self) -> bool {
        self.data.usable() && self.phase.get() != Phase::Training
    }

    /// A model is shown and no run is writing to it: it can be saved and explored.
    pub fn model_available(&self) -> bool {
        self.phase.get() != Phase::Training && self.shown.with(|s| s.as_ref().is_some_and(|s| s.model.is_some()))
    }

    /// Copies a link to this view and says so.
    pub fn copy_link(self) {
        if let Some(href) = browser::copy_address() {
            self.notify(Message::LinkCopied { href });
        }
    }

    /// Other test images to reconstruct (a running run picks them up at its next epoch).
    pub fn other_images(self) {
        let Some(test) = self.data.test() else { return };
        let indices = browser::random_sample(RECONSTRUCTIONS_SHOWN, test.len());
        self.settings.update(|s| s.images = Some(indices));
    }
}
