//! What follows from the shown model: its reconstructions, the codes of the test images and
//! their t-SNE map, the picked image's code, and the visitor's drawing placed on the map. Each
//! is a resource keyed on the model and its own inputs, so a result that arrives after they
//! changed is dropped by leptos.

use std::rc::Rc;

use leptos::prelude::*;
use model::data::LabeledImages;
use model::latent::place_on_map;

use super::{Data, Shown, ShownModel, sample_of};
use crate::settings::Settings;
use crate::embedding::{self, MapState, Mapper};
use crate::events::Reconstructions;
use crate::latent::{self, Look};
use crate::run;

/// The test codes of the shown model: `dim` values per test image.
pub struct Codes {
    pub values: Vec<f32>,
    pub dim: usize,
}

/// What the visitor's drawing became.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    pub look: Look,
    /// "Sneaker (7), Sandal (3)", once the map is there.
    pub neighbours: Option<String>,
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
    error: RwSignal<Option<String>>,
}

impl Inputs {
    pub(super) fn new(shown: RwSignal<Option<Shown>, LocalStorage>, data: Data, settings: RwSignal<Settings>, error: RwSignal<Option<String>>) -> Self {
        let model_key = Memo::new(move |_| shown.with(|s| s.as_ref().and_then(|s| s.model.as_ref()).map(|m| Rc::as_ptr(&m.trainer) as usize)));
        let sample = Memo::new(move |_| settings.with(sample_of));
        Self { shown, data, model_key, sample, error }
    }

    /// The shown model (tracked by identity).
    fn model(&self) -> Option<ShownModel> {
        self.model_key.track();
        self.shown.with_untracked(|s| s.as_ref().and_then(|s| s.model.clone()))
    }

    fn test(&self) -> Option<Rc<LabeledImages>> {
        self.data.test()
    }

    fn fail(&self, message: String) {
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
    pub map: RwSignal<Option<MapState>>,
    mapper: StoredValue<Mapper, LocalStorage>,
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
                run::reconstruct(&model.trainer, &test, &indices).await.map_err(|e| page.fail(format!("Could not draw reconstructions: {e}"))).ok()
            }
        });
        // Encoding the 10,000 test images takes a while on the CPU: only when there is no
        // shipped map, or a drawing to place.
        let codes_needed = Memo::new(move |_| {
            let shipped = match (page.model(), page.test()) {
                (Some(model), Some(test)) => ships_map(&model, test.len()),
                _ => false,
            };
            !shipped || drawing.with(Option::is_some)
        });
        let codes = LocalResource::new(move || {
            let (model, test, needed) = (page.model(), page.test(), codes_needed.get());
            async move {
                let (model, test) = (model?, test?);
                if !needed {
                    return None;
                }
                match embedding::codes(&model.trainer, &test).await {
                    Ok((values, dim)) => Some(Rc::new(Codes { values, dim })),
                    Err(e) => {
                        page.fail(format!("Could not draw the map: could not encode the test images: {e}"));
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
                latent::look(&model.trainer, pixels).await.map_err(|e| page.fail(format!("Could not encode test image {index}: {e}"))).ok()
            }
        });
        let finished_map = Memo::new(move |_| map.with(|m| m.as_ref().filter(|m| m.done).map(|m| m.points.clone())));
        let drawn = LocalResource::new(move || {
            let (model, test, pixels, points) = (page.model(), page.test(), drawing.get(), finished_map.get());
            async move {
                let (model, test, pixels) = (model?, test?, pixels?);
                let look = latent::look(&model.trainer, pixels).await.map_err(|e| page.fail(format!("Could not encode your drawing: {e}"))).ok()?;
                let placement = match points {
                    Some(points) => codes.await.and_then(|codes| place_on_map(&codes.values, codes.dim, &points, &look.code, 10)),
                    None => None,
                };
                let at = placement.as_ref().map(|p| (p.x, p.y));
                let neighbours = placement.map(|p| classes_of(&p.neighbours, &test));
                Some(Drawn { look, neighbours, at })
            }
        });
        Self { inputs: page, picked, drawing, map, mapper: StoredValue::new_local(Mapper::default()), reconstructions, codes, look, drawn }
    }

    /// The shown model to explore, tracked by identity.
    pub fn model(&self) -> Option<ShownModel> {
        self.inputs.model()
    }

    /// The map follows the shown model: the one shipped with it, else t-SNE of its codes in
    /// the worker (the outside world, hence effects).
    pub(super) fn follow_shown_model(self) {
        let page = self.inputs;
        Effect::new(move |_| {
            let model = page.model();
            self.mapper.with_value(Mapper::stop);
            let test_len = page.test().map_or(0, |t| t.len());
            self.map.set(model.and_then(|m| shipped_map(&m, test_len)));
        });
        Effect::new(move |_| {
            let Some(codes) = self.codes.get().flatten() else { return };
            if self.map.with_untracked(|m| m.as_ref().is_some_and(|m| m.precomputed)) {
                return;
            }
            let map = self.map;
            self.mapper.with_value(|mapper| {
                mapper.map(&codes.values, codes.dim, move |update| match update {
                    Ok(state) => map.set(Some(state)),
                    Err(e) => page.fail(format!("The map of the codes failed: {e}")),
                })
            });
        });
    }
}

/// The map computed when the model was trained, if its record has one for these test images.
fn shipped_map(model: &ShownModel, test_len: usize) -> Option<MapState> {
    ships_map(model, test_len).then(|| MapState {
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

/// "Sneaker (7), Sandal (3)": the classes of test images `indices`, most frequent first.
fn classes_of(indices: &[usize], test: &LabeledImages) -> String {
    let mut counts = [0usize; 10];
    for &i in indices.iter().filter(|&&i| i < test.len()) {
        counts[usize::from(test.label(i)) % 10] += 1;
    }
    let mut classes: Vec<(usize, usize)> = counts.into_iter().enumerate().filter(|&(_, n)| n > 0).collect();
    classes.sort_by(|a, b| b.1.cmp(&a.1));
    classes.iter().map(|&(class, n)| format!("{} ({n})", model::data::CLASS_NAMES[class])).collect::<Vec<_>>().join(", ")
}
