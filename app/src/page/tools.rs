//! What follows from the shown model: its reconstructions, the codes of the test images and
//! their t-SNE map, the picked image's code, and the visitor's drawing placed on the map. Each
//! is a resource keyed on the model and its own inputs, so a result that arrives after they
//! changed is dropped by leptos.

use std::rc::Rc;

use leptos::prelude::*;
use model::data::{IMAGE_PIXELS, LabeledImages};
use model::embedding::pca_projection;
use model::latent::place_on_map;
use model::neighbours::{nearest_neighbour_accuracy, nearest_to};

use super::{Data, Shown, ShownModel, sample_of};
use crate::browser;
use crate::embedding::{self, KNN_ROWS, MapState, Mapper, PixelLessons};
use crate::settings::{DEFAULT_PERPLEXITY, MapMethod, Settings};
use crate::events::Reconstructions;
use crate::latent::{self, Look};
use crate::run;
use crate::text::{ClassCounts, Message};

/// The test codes of the shown model: `dim` values per test image.
pub struct Codes {
    pub values: Vec<f32>,
    pub dim: usize,
}

/// What the shown model's codes answer of the map's questions: their PCA map, and how often
/// an image's nearest code (of the first [`KNN_ROWS`] test images) shares its class.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeLessons {
    pub pca: MapState,
    pub accuracy: f64,
}

/// Test images shown as the picked one's nearest in code space.
pub const NEAREST_SHOWN: usize = 8;

/// What the visitor's drawing became.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    pub look: Look,
    /// The classes it lands among, once the map is there.
    pub neighbours: Option<ClassCounts>,
    /// Where it lands on the map (map coordinates), once the map is there.
    pub at: Option<(f32, f32)>,
}

/// What the tools read of the page. The shown model is tracked by identity (not its note), so
/// resources re-run only when it changes.
#[derive(Clone, Copy)]
pub(super) struct Inputs {
    shown: RwSignal<Option<Shown>, LocalStorage>,
    data: Data,
    model_key: Memo<Option<usize>>,
    /// The test images whose reconstructions are shown.
    sample: Memo<Vec<usize>>,
    settings: RwSignal<Settings>,
    error: RwSignal<Option<Message>>,
}

impl Inputs {
    pub(super) fn new(shown: RwSignal<Option<Shown>, LocalStorage>, data: Data, settings: RwSignal<Settings>, error: RwSignal<Option<Message>>) -> Self {
        let model_key = Memo::new(move |_| shown.with(|s| s.as_ref().and_then(|s| s.model.as_ref()).map(|m| Rc::as_ptr(&m.trainer) as usize)));
        let sample = Memo::new(move |_| settings.with(sample_of));
        Self { shown, data, model_key, sample, settings, error }
    }

    /// The shown model (tracked by identity).
    fn model(&self) -> Option<ShownModel> {
        self.model_key.track();
        self.shown.with_untracked(|s| s.as_ref().and_then(|s| s.model.clone()))
    }

    fn test(&self) -> Option<Rc<LabeledImages>> {
        self.data.test()
    }

    fn fail(&self, message: Message) {
        self.error.set(Some(message));
    }
}

#[derive(Clone, Copy)]
pub struct Tools {
    inputs: Inputs,
    /// The test image being explored (a dot clicked on the map, or a number typed).
    pub picked: RwSignal<Option<usize>>,
    /// The visitor's drawing, once a stroke ends.
    pub drawing: RwSignal<Option<Vec<f32>>>,
    /// The t-SNE map (shipped, or computed here at the settings' perplexity).
    pub map: RwSignal<Option<MapState>>,
    mapper: StoredValue<Mapper, LocalStorage>,
    /// The raw pixels' lessons, computed once in a worker of their own.
    pub pixels: RwSignal<Option<PixelLessons>>,
    pixel_worker: StoredValue<Mapper, LocalStorage>,
    pub code_lessons: LocalResource<Option<CodeLessons>>,
    /// The map the settings ask for.
    pub shown_map: Memo<Option<MapState>>,
    /// The picked image's nearest test images in code space, nearest first.
    pub nearest: Memo<Option<Vec<usize>>>,
    pub reconstructions: LocalResource<Option<Reconstructions>>,
    pub codes: LocalResource<Option<Rc<Codes>>>,
    pub look: LocalResource<Option<Look>>,
    pub drawn: LocalResource<Option<Drawn>>,
}

impl Tools {
    pub(super) fn new(page: Inputs) -> Self {
        let picked = RwSignal::new(Some(0));
        let drawing = RwSignal::new(None::<Vec<f32>>);
        let map = RwSignal::new(None::<MapState>);
        let reconstructions = LocalResource::new(move || {
            let (model, test, indices) = (page.model(), page.test(), page.sample.get());
            async move {
                let (model, test) = (model?, test?);
                run::reconstruct(&model.trainer, &test, &indices).await.map_err(|e| page.fail(Message::ReconstructFailed { why: e.to_string() })).ok()
            }
        });
        // The codes answer the map's questions (PCA, nearest images, k-NN accuracy) and place
        // drawings, so they are read for every shown model, a chunk at a time.
        let codes = LocalResource::new(move || {
            let (model, test) = (page.model(), page.test());
            async move {
                let (model, test) = (model?, test?);
                match embedding::codes(&model.trainer, &test).await {
                    Ok((values, dim)) => Some(Rc::new(Codes { values, dim })),
                    Err(e) => {
                        page.fail(Message::EncodeFailed { why: e.to_string() });
                        None
                    }
                }
            }
        });
        let look = LocalResource::new(move || {
            let (model, test, index) = (page.model(), page.test(), picked.get());
            async move {
                let (model, test, index) = (model?, test?, index?);
                if index >= test.len() {
                    return None;
                }
                let pixels = test.batch_pixels(&[index]);
                latent::look(&model.trainer, pixels).await.map_err(|e| page.fail(Message::LookFailed { index, why: e.to_string() })).ok()
            }
        });
        let pixels = RwSignal::new(None::<PixelLessons>);
        // Each a fraction of a second on the page's thread: two tasks, so neither is long.
        let code_lessons = LocalResource::new(move || {
            let test = page.test();
            async move {
                let (codes, test) = (codes.await?, test?);
                let started = browser::now();
                let pca = pca_projection(&codes.values, codes.dim);
                let seconds = (browser::now() - started) / 1e3;
                browser::sleep(0).await;
                let accuracy = nearest_neighbour_accuracy(&codes.values, codes.dim, test.labels(), KNN_ROWS);
                Some(CodeLessons { pca: MapState::finished(MapMethod::PcaCodes, pca, seconds), accuracy })
            }
        });
        let method = Memo::new(move |_| page.settings.with(|s| s.map));
        let shown_map = Memo::new(move |_| match method.get() {
            MapMethod::Tsne => map.get(),
            MapMethod::PcaCodes => code_lessons.get().flatten().map(|l| l.pca),
            MapMethod::PcaPixels => pixels.get().map(|p| p.map),
        });
        let nearest = Memo::new(move |_| {
            let (codes, index) = (codes.get().flatten()?, picked.get()?);
            (index < codes.values.len() / codes.dim.max(1)).then(|| nearest_to(&codes.values, codes.dim, index, NEAREST_SHOWN))
        });
        let finished_map = Memo::new(move |_| shown_map.with(|m| m.as_ref().filter(|m| m.done).map(|m| m.points.clone())));
        let drawn = LocalResource::new(move || {
            let (model, test, pixels, points) = (page.model(), page.test(), drawing.get(), finished_map.get());
            async move {
                let (model, test, pixels) = (model?, test?, pixels?);
                let look = latent::look(&model.trainer, pixels).await.map_err(|e| page.fail(Message::DrawingFailed { why: e.to_string() })).ok()?;
                let placement = match points {
                    Some(points) => codes.await.and_then(|codes| place_on_map(&codes.values, codes.dim, &points, &look.code, 10)),
                    None => None,
                };
                let at = placement.as_ref().map(|p| (p.x, p.y));
                let neighbours = placement.map(|p| ClassCounts::of_images(&p.neighbours, &test));
                Some(Drawn { look, neighbours, at })
            }
        });
        Self {
            inputs: page,
            picked,
            drawing,
            map,
            mapper: StoredValue::new_local(Mapper::default()),
            pixels,
            pixel_worker: StoredValue::new_local(Mapper::default()),
            code_lessons,
            shown_map,
            nearest,
            reconstructions,
            codes,
            look,
            drawn,
        }
    }

    /// The shown model to explore, tracked by identity.
    pub fn model(&self) -> Option<ShownModel> {
        self.inputs.model()
    }

    /// The map follows the shown model: the one shipped with it, else t-SNE of its codes in
    /// the worker (the outside world, hence effects).
    pub(super) fn follow_shown_model(self) {
        let page = self.inputs;
        let perplexity = Memo::new(move |_| page.settings.with(|s| s.perplexity));
        let tsne_wanted = Memo::new(move |_| page.settings.with(|s| s.map == MapMethod::Tsne));
        // The shipped map was made at the default perplexity; another one is computed here.
        Effect::new(move |_| {
            let (model, perplexity) = (page.model(), perplexity.get());
            self.mapper.with_value(Mapper::stop);
            let test_len = page.test().map_or(0, |t| t.len());
            let shipped = model.filter(|_| perplexity == DEFAULT_PERPLEXITY).and_then(|m| shipped_map(&m, test_len));
            self.map.set(shipped);
        });
        // t-SNE runs only while it is the map asked for; switching back resumes what is missing.
        Effect::new(move |_| {
            let Some(codes) = self.codes.get().flatten() else { return };
            let perplexity = perplexity.get();
            if !tsne_wanted.get() || self.map.with_untracked(|m| m.as_ref().is_some_and(|m| m.done && m.perplexity == perplexity)) {
                return;
            }
            let map = self.map;
            self.mapper.with_value(|mapper| {
                mapper.map(&codes.values, codes.dim, perplexity, move |update| match update {
                    Ok(state) => map.set(Some(state)),
                    Err(why) => page.fail(Message::MapFailed { why }),
                })
            });
        });
        // The raw pixels' lessons need no model: once per page, off the page's thread.
        Effect::new(move |_| {
            let Some(test) = page.test() else { return };
            if self.pixels.with_untracked(Option::is_some) {
                return;
            }
            let pixels = self.pixels;
            self.pixel_worker.with_value(|worker| {
                worker.pixel_lessons(test.pixels(), IMAGE_PIXELS, test.labels(), move |result| match result {
                    Ok(lessons) => pixels.set(Some(lessons)),
                    Err(why) => page.fail(Message::LessonsFailed { why }),
                })
            });
        });
    }
}

/// The map computed when the model was trained, if its record has one for these test images.
fn shipped_map(model: &ShownModel, test_len: usize) -> Option<MapState> {
    ships_map(model, test_len).then(|| MapState {
        method: MapMethod::Tsne,
        perplexity: DEFAULT_PERPLEXITY,
        points: model.record.map.clone(),
        iteration: 1000,
        total: 1000,
        seconds: 0.0,
        done: true,
        precomputed: true,
    })
}

/// The model's record holds a map for these test images (checked without copying its points).
fn ships_map(model: &ShownModel, test_len: usize) -> bool {
    test_len > 0 && model.record.map.len() == 2 * test_len
}
