//! What follows from the shown model: its reconstructions, the codes of the test images and
//! their t-SNE map, the picked image's code and nearest images, and the visitor's drawing
//! placed on the map. Each is a resource keyed on the model and its own inputs, so a result
//! that arrives after they changed is dropped by leptos. The engine computes; a pretrained
//! model's pack answers what it precomputed without it.

use std::rc::Rc;

use leptos::prelude::*;
use protocol::data::LabeledImages;
use protocol::messages::{Codes, Lessons, Look, ModelRef, Reply, Request};
use protocol::{Corruption, Reconstructions};

use super::{Data, Shown, ShownModel, sample_of};
use crate::embedding::{MapState, Mapper};
use crate::engine::{Engine, Failure};
use crate::settings::{DEFAULT_PERPLEXITY, MapMethod, Panel, Settings};
use crate::text::{ClassCounts, Message};

/// Test images shown as the picked one's nearest in code space.
pub const NEAREST_SHOWN: usize = 8;

/// Images decoded along the line between two codes, ends included.
pub const WALK_STEPS: usize = 9;

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
    model_key: Memo<Option<ModelRef>>,
    /// The test images whose reconstructions are shown.
    sample: Memo<Vec<usize>>,
    settings: RwSignal<Settings>,
    error: RwSignal<Option<Message>>,
    engine: StoredValue<Engine, LocalStorage>,
    /// The engine may be asked (from idle after the first view, or first use).
    live: RwSignal<bool>,
}

impl Inputs {
    pub(super) fn new(
        shown: RwSignal<Option<Shown>, LocalStorage>,
        data: Data,
        settings: RwSignal<Settings>,
        error: RwSignal<Option<Message>>,
        engine: StoredValue<Engine, LocalStorage>,
        live: RwSignal<bool>,
    ) -> Self {
        let model_key = Memo::new(move |_| shown.with(|s| s.as_ref().and_then(|s| s.model.as_ref()).map(|m| m.model)));
        let sample = Memo::new(move |_| settings.with(sample_of));
        Self { shown, data, model_key, sample, settings, error, engine, live }
    }

    /// The shown model (tracked by identity).
    fn model(&self) -> Option<ShownModel> {
        self.model_key.track();
        self.shown.with_untracked(|s| s.as_ref().and_then(|s| s.model.clone()))
    }

    /// The shown model, once the engine may be asked about it.
    fn live_model(&self) -> Option<ModelRef> {
        self.live.get().then(|| self.model_key.get()).flatten()
    }

    /// The shown model for a tool in `panel`, unless the link left that panel out (`hide=`):
    /// a course page that embeds only the curves costs no engine work for the others.
    fn model_for(&self, panel: Panel) -> Option<ModelRef> {
        self.settings.with_untracked(|s| s.shows(panel)).then(|| self.live_model()).flatten()
    }

    fn test(&self) -> Option<Rc<LabeledImages>> {
        self.data.test()
    }

    /// Asks the engine; a refusal is shown as `failed` says, and answers nothing (a failed
    /// engine the page has shown already).
    async fn ask(self, request: Request, failed: impl FnOnce(String) -> Message) -> Option<Reply> {
        match self.engine.get_value().ask(request).await {
            Ok(reply) => Some(reply),
            Err(Failure::Refused(why)) => {
                self.error.set(Some(failed(why)));
                None
            }
            Err(Failure::EngineDown(_)) => None,
        }
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
    /// The raw pixels' lessons: no model, so once per page.
    pub pixels: LocalResource<Option<Lessons>>,
    pub code_lessons: LocalResource<Option<Lessons>>,
    /// The map the settings ask for.
    pub shown_map: Memo<Option<MapState>>,
    /// The picked image's nearest test images in code space, nearest first.
    pub nearest: LocalResource<Option<Vec<usize>>>,
    pub reconstructions: LocalResource<Option<Reconstructions>>,
    /// The codes, for t-SNE in its worker when the model ships no map for these settings.
    pub codes: LocalResource<Option<Rc<Codes>>>,
    pub look: LocalResource<Option<Look>>,
    pub drawn: LocalResource<Option<Drawn>>,
    /// Wanted when the map is computed here.
    tsne_wanted: Memo<bool>,
}

impl Tools {
    pub(super) fn new(page: Inputs) -> Self {
        let picked = RwSignal::new(Some(0));
        let drawing = RwSignal::new(None::<Vec<f32>>);
        let map = RwSignal::new(None::<MapState>);
        let reconstructions = LocalResource::new(move || {
            let (shown, indices, live) = (page.model(), page.sample.get(), page.live.get());
            async move {
                let shown = shown?;
                if let Some((sample, reconstructions)) = &shown.precomputed
                    && *sample == indices
                {
                    return Some(reconstructions.clone());
                }
                if !live {
                    return None;
                }
                match page.ask(Request::Reconstruct { model: shown.model, indices }, |why| Message::ReconstructFailed { why }).await? {
                    Reply::Reconstructions(r) => Some(r),
                    _ => None,
                }
            }
        });
        let perplexity = Memo::new(move |_| page.settings.with(|s| s.perplexity));
        let tsne_wanted = Memo::new(move |_| {
            let shipped = page.shown.with(|s| s.as_ref().and_then(|s| s.model.as_ref()).is_some_and(|m| !m.record.map.is_empty()));
            page.settings.with(|s| s.map == MapMethod::Tsne) && !(shipped && perplexity.get() == DEFAULT_PERPLEXITY)
        });
        // The codes feed t-SNE, which runs only for a map not shipped with the model.
        let codes = LocalResource::new(move || {
            let (model, wanted) = (page.model_for(Panel::Map), tsne_wanted.get());
            async move {
                let model = model.filter(|_| wanted)?;
                match page.ask(Request::Codes { model }, |why| Message::EncodeFailed { why }).await? {
                    Reply::Codes(codes) => Some(Rc::new(codes)),
                    _ => None,
                }
            }
        });
        let look = LocalResource::new(move || {
            let (model, test, index) = (page.model_for(Panel::Explore), page.test(), picked.get());
            async move {
                let (model, test, index) = (model?, test?, index?);
                if index >= test.len() {
                    return None;
                }
                let pixels = test.batch_pixels(&[index]);
                match page.ask(Request::Look { model, pixels }, |why| Message::LookFailed { index, why }).await? {
                    Reply::Look(look) => Some(look),
                    _ => None,
                }
            }
        });
        let lessons = move |reply: Option<Reply>| match reply? {
            Reply::Lessons(lessons) => Some(lessons),
            _ => None,
        };
        // Shown beside the codes' lessons, so asked for with them: never while a run trains,
        // whose worker it would hold up for a second or two.
        let pixels = LocalResource::new(move || {
            let wanted = page.model_for(Panel::Map).is_some();
            async move {
                if !wanted {
                    return None;
                }
                lessons(page.ask(Request::PixelLessons, |why| Message::LessonsFailed { why }).await)
            }
        });
        let code_lessons = LocalResource::new(move || {
            let model = page.model_for(Panel::Map);
            async move { lessons(page.ask(Request::CodeLessons { model: model? }, |why| Message::EncodeFailed { why }).await) }
        });
        let method = Memo::new(move |_| page.settings.with(|s| s.map));
        let shown_map = Memo::new(move |_| match method.get() {
            MapMethod::Tsne => map.get(),
            MapMethod::PcaCodes => code_lessons.get().flatten().map(|l| MapState::finished(MapMethod::PcaCodes, l.map, l.seconds)),
            MapMethod::PcaPixels => pixels.get().flatten().map(|l| MapState::finished(MapMethod::PcaPixels, l.map, l.seconds)),
        });
        let nearest = LocalResource::new(move || {
            let (model, index) = (page.model_for(Panel::Explore), picked.get());
            async move {
                let request = Request::Nearest { model: model?, index: index?, count: NEAREST_SHOWN };
                match page.ask(request, |why| Message::EncodeFailed { why }).await? {
                    Reply::Indices(nearest) => Some(nearest),
                    _ => None,
                }
            }
        });
        let finished_map = Memo::new(move |_| shown_map.with(|m| m.as_ref().filter(|m| m.done).map(|m| m.points.clone())));
        let drawn = LocalResource::new(move || {
            let (model, pixels, map, labels) = (page.model_for(Panel::Explore), drawing.get(), finished_map.get(), page.data.labels());
            async move {
                let request = Request::Draw { model: model?, pixels: pixels?, map };
                let Reply::Drawn { look, placement } = page.ask(request, |why| Message::DrawingFailed { why }).await? else { return None };
                let at = placement.as_ref().map(|p| (p.x, p.y));
                let neighbours = placement.zip(labels).map(|(p, labels)| ClassCounts::of_images(&p.neighbours, &labels));
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
            code_lessons,
            shown_map,
            nearest,
            reconstructions,
            codes,
            look,
            drawn,
            tsne_wanted,
        }
    }

    /// The shown model to explore, tracked by identity.
    pub fn model(&self) -> Option<ShownModel> {
        self.inputs.model()
    }

    /// The shown model for the explore tools, once the engine may be asked about it (tracked).
    pub fn live_model(&self) -> Option<ModelRef> {
        self.inputs.model_for(Panel::Explore)
    }

    /// Test image `index` corrupted at `corruption`, and `model`'s reconstruction of it.
    pub async fn corrupted(self, model: ModelRef, test: Rc<LabeledImages>, index: usize, corruption: Corruption) -> Option<(Vec<f32>, Vec<f32>)> {
        if index >= test.len() {
            return None;
        }
        let request = Request::Corrupt { model, pixels: test.batch_pixels(&[index]), corruption };
        match self.inputs.ask(request, |why| Message::CorruptFailed { index, why }).await? {
            Reply::Corrupted(c) => Some((c.seen, c.reconstruction)),
            _ => None,
        }
    }

    /// [`WALK_STEPS`] images decoded by `model` from codes evenly spaced between test images
    /// `from` and `to`.
    pub async fn walk(self, model: ModelRef, test: Rc<LabeledImages>, from: usize, to: usize) -> Option<Vec<f32>> {
        if from.max(to) >= test.len() {
            return None;
        }
        let request = Request::Walk { model, from: test.batch_pixels(&[from]), to: test.batch_pixels(&[to]), steps: WALK_STEPS };
        match self.inputs.ask(request, |why| Message::WalkFailed { from, to, why }).await? {
            Reply::Images(images) => Some(images),
            _ => None,
        }
    }

    /// The map follows the shown model: the one shipped with it, else t-SNE of its codes in
    /// the t-SNE worker (the outside world, hence effects).
    pub(super) fn follow_shown_model(self) {
        let page = self.inputs;
        let perplexity = Memo::new(move |_| page.settings.with(|s| s.perplexity));
        // The shipped map was made at the default perplexity; another one is computed here.
        Effect::new(move |_| {
            let (model, perplexity) = (page.model(), perplexity.get());
            self.mapper.with_value(Mapper::stop);
            let shipped = model.filter(|_| perplexity == DEFAULT_PERPLEXITY).and_then(|m| shipped_map(&m));
            self.map.set(shipped);
        });
        // t-SNE runs only while it is the map asked for; switching back resumes what is missing.
        Effect::new(move |_| {
            let Some(codes) = self.codes.get().flatten() else { return };
            let perplexity = perplexity.get();
            if !self.tsne_wanted.get() || self.map.with_untracked(|m| m.as_ref().is_some_and(|m| m.done && m.perplexity == perplexity)) {
                return;
            }
            let map = self.map;
            self.mapper.with_value(|mapper| {
                mapper.map(&codes.values, codes.dim, perplexity, move |update| match update {
                    Ok(state) => map.set(Some(state)),
                    Err(why) => page.error.set(Some(Message::MapFailed { why })),
                })
            });
        });
    }
}

/// The map computed when the model was trained, if its record has one.
fn shipped_map(model: &ShownModel) -> Option<MapState> {
    (!model.record.map.is_empty()).then(|| MapState {
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
