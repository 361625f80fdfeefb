//! The page's state, shared with every panel through leptos context: the settings (and so the
//! URL), the engine and what it pushes (backend, data), the run, the shown model and what is
//! derived from it (map, latent tools, comparison). Its methods are what a visitor does.
//!
//! The first view needs no engine: the shown pretrained model's pack is drawn as soon as it
//! is in. The engine (a worker) starts when the page is idle after that, or at first use
//! (`prefetch=0`, or when the browser asks to save data), and fetches the data as it is
//! needed: the test images then, the training images only for a run.
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
use protocol::data::LabeledImages;
use protocol::messages::{BackendNote, DataStatus, Reply, Request};

use crate::browser;
use crate::engine::{Engine, Push, when_idle};
use crate::settings::Settings;
use crate::state::Phase;
use crate::text::Message;

pub use compare::Compared;
pub use protocol::RECONSTRUCTIONS_SHOWN;
pub use shown::{NotShown, Shown, ShownModel, Wanted};
pub use tools::{Drawn, NEAREST_SHOWN, Tools, WALK_STEPS};
pub use training::Training;

/// The Fashion-MNIST data as the page knows it: how far the engine's fetching has come, the
/// test labels (from the first pack) and, once fetched, the test images the page draws.
#[derive(Clone, Copy)]
pub struct Data {
    pub status: RwSignal<DataStatus>,
    pub labels: RwSignal<Option<Rc<Vec<u8>>>, LocalStorage>,
    test: RwSignal<Option<Rc<LabeledImages>>, LocalStorage>,
    /// The test images were asked of the engine (once per page, again after a failure).
    test_asked: StoredValue<bool>,
}

impl Data {
    fn new() -> Self {
        Self {
            status: RwSignal::new(DataStatus::default()),
            labels: RwSignal::new_local(None),
            test: RwSignal::new_local(None),
            test_asked: StoredValue::new(false),
        }
    }

    /// The test images, once in.
    pub fn test(&self) -> Option<Rc<LabeledImages>> {
        self.test.get()
    }

    /// Every test image's label, once the first pack or the test set is in.
    pub fn labels(&self) -> Option<Rc<Vec<u8>>> {
        self.labels.get()
    }

    /// How many test images there are (10,000 until the data says).
    pub fn test_count(&self) -> usize {
        self.labels.with(|l| l.as_ref().map(|l| l.len())).filter(|&n| n > 0).unwrap_or(crate::settings::TEST_IMAGES)
    }
}

/// The test images to reconstruct under `settings`: the URL's, else the first few.
pub fn sample_of(settings: &Settings) -> Vec<usize> {
    settings.images.clone().unwrap_or_else(|| (0..RECONSTRUCTIONS_SHOWN).collect())
}

#[derive(Clone, Copy)]
pub struct Page {
    pub settings: RwSignal<Settings>,
    pub phase: RwSignal<Phase>,
    pub notices: RwSignal<Vec<Message>>,
    pub error: RwSignal<Option<Message>>,
    pub data: Data,
    /// Where runs train, once the engine has said.
    pub backend: RwSignal<Option<BackendNote>>,
    /// The browser believes it has a network.
    pub online: RwSignal<bool>,
    engine: StoredValue<Engine, LocalStorage>,
    /// The engine may be used: from idle after the first view, or from first use.
    live: RwSignal<bool>,
    pub training: Training,
    pub shown: RwSignal<Option<Shown>, LocalStorage>,
    /// Showing a model not trained in this run: pretrained, or weights from a file.
    showing: Action<Wanted, Result<(ShownModel, Message), NotShown>>,
    show_request: StoredValue<Option<ActionAbortHandle>, LocalStorage>,
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
        let backend = RwSignal::new(None);
        let error = RwSignal::new(None);
        // The engine's client tells the page what the engine pushes, so it needs the page: it
        // is made once the page exists, in place of this one that hears nothing.
        let engine = StoredValue::new_local(Engine::new(|_| {}));
        let live = RwSignal::new(false);
        let shown = RwSignal::new_local(None);
        let training = Training::new();
        let page = Page {
            settings,
            phase: RwSignal::new(Phase::Loading),
            notices,
            error,
            data,
            backend,
            online: RwSignal::new(browser::online()),
            engine,
            live,
            training,
            shown,
            showing: shown::showing_action(engine, data),
            show_request: StoredValue::new_local(None),
            tools: Tools::new(tools::Inputs::new(shown, data, settings, error, engine, live)),
            comparison: compare::comparison_action(settings, engine, training.trained_here, notices),
        };
        engine.set_value(Engine::new(move |push| page.take_push(push)));
        page
    }

    /// Starts the page: its effects, then the first view (the pretrained model's pack); the
    /// engine follows at idle, or at first use.
    pub fn boot(self) {
        Effect::new(move |_| browser::set_body_state(self.phase.get().as_str()));
        browser::on_network_change(move |online| self.online.set(online));
        // The URL always holds the settings, so the address bar is a link to this view.
        Effect::new(move |_| browser::replace_query(&self.settings.with(|s| s.to_query())));
        self.follow_experiment();
        self.follow_showing();
        self.tools.follow_shown_model();
        self.follow_test_images();
        self.release_forgotten_models();
        self.show_pretrained();
    }

    /// The first view is drawn (or there is no pretrained model to draw): the page is ready,
    /// and starts what the link asked for.
    fn on_first_view(self) {
        if self.phase.get_untracked() != Phase::Loading {
            return;
        }
        self.phase.set(Phase::Ready);
        if self.settings.with_untracked(|s| s.autostart) {
            self.train();
        } else if self.settings.with_untracked(|s| s.prefetch) && !browser::saves_data() {
            when_idle(move || self.go_live());
        } else {
            browser::on_first_input(move || self.go_live());
        }
    }

    /// Starts the engine and asks for what the page shows next: the backend, the test images.
    pub fn go_live(self) {
        if self.live.get_untracked() {
            return;
        }
        self.live.set(true);
        let (choice, batch_size) = self.settings.with_untracked(|s| (s.backend, s.batch_size));
        let engine = self.engine();
        engine.start();
        spawn_local(async move {
            let _ = engine.ask(Request::StartBackend { choice, batch_size }).await;
        });
        self.want_test_images();
    }

    pub(crate) fn engine(&self) -> Engine {
        self.engine.get_value()
    }

    /// What the engine says unasked.
    fn take_push(self, push: Push) {
        match push {
            Push::Backend(note) => self.backend.set(Some(note)),
            Push::Data(status) => self.data.status.set(status),
            Push::Failed(why) => {
                // The next thing that needs the engine starts a new one, with data of its own.
                self.live.set(false);
                self.training.blocked.set(false);
                // Its models are gone with it: the page forgets those it made here.
                self.training.trained_here.set(Vec::new());
                if self.shown.with_untracked(|s| s.as_ref().and_then(|s| s.model.as_ref()).is_some_and(|m| m.is_made())) {
                    self.shown.set(None);
                }
                self.data.test_asked.set_value(self.data.test.with_untracked(Option::is_some));
                self.fail(Message::EngineFailed { why });
            }
        }
    }

    /// Asks the engine for the test images the page draws (thumbnails, hover, the tools), once.
    fn want_test_images(self) {
        if self.data.test_asked.get_value() {
            return;
        }
        self.data.test_asked.set_value(true);
        let engine = self.engine();
        spawn_local(async move {
            match engine.ask(Request::TestImages).await {
                Ok(Reply::TestImages(test)) => {
                    // The labels usually came with the first pack: the map is not drawn again.
                    if self.data.labels.with_untracked(|l| l.as_deref().map(Vec::as_slice) != Some(test.labels())) {
                        self.data.labels.set(Some(Rc::new(test.labels().to_vec())));
                    }
                    self.data.test.set(Some(Rc::new(test)));
                }
                // The data status names what failed, with a Retry.
                _ => self.data.test_asked.set_value(false),
            }
        });
    }

    /// Once the engine has the test images (a run fetched them, say), the page takes them too.
    fn follow_test_images(self) {
        Effect::new(move |_| {
            if self.data.status.with(|s| s.test_in) {
                self.want_test_images();
            }
        });
    }

    /// Fetches what failed again, and only that: a run the data held up starts once it is in.
    pub fn retry(self) {
        if std::mem::take(&mut *self.training.blocked.write()) {
            self.phase.set(Phase::Ready);
            return self.train();
        }
        let engine = self.engine();
        spawn_local(async move {
            let _ = engine.ask(Request::Retry).await;
        });
    }

    /// Fetches the whole training set now, without training (before a class, say).
    pub fn fetch_training(self) {
        self.go_live();
        let engine = self.engine();
        spawn_local(async move {
            let _ = engine.ask(Request::FetchTraining).await;
        });
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

    /// The engine has been started (or may be, at the next thing that needs it).
    pub fn engine_started(&self) -> bool {
        self.live.get()
    }

    /// The Train button works: the page is up, no run is going or starting, and no run waits
    /// for data that failed (its Retry starts it).
    pub fn can_train(&self) -> bool {
        let waits_for_retry = self.training.blocked.get() && self.data.status.with(DataStatus::failed);
        matches!(self.phase.get(), Phase::Ready | Phase::Done | Phase::Error) && !waits_for_retry
    }

    /// No run is going and the page is up: models can be loaded and compared.
    pub fn idle(&self) -> bool {
        matches!(self.phase.get(), Phase::Ready | Phase::Done | Phase::Error)
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
        let indices = browser::random_sample(RECONSTRUCTIONS_SHOWN, self.data.test_count());
        self.settings.update(|s| s.images = Some(indices.clone()));
        self.training.resample(&self.engine(), indices);
    }
}
