//! Hands-on tools for the code space: pick a test image and see its code and reconstruction,
//! corrupt it at any level, walk the line between two codes, and draw a picture of your own.

use leptos::html::Canvas;
use leptos::prelude::*;
use protocol::Corruption;
use protocol::data::{IMAGE_PIXELS, IMAGE_SIDE};

use crate::charts::{code_strip, context_2d, image_grid, put_image};
use crate::i18n::{Locale, t, t_string, td_string, use_i18n};
use crate::page::{Drawn, NEAREST_SHOWN, WALK_STEPS, use_page};
use crate::state::Phase;
use crate::settings::{MAX_DROPOUT_RATE, MAX_NOISE_STDDEV, TEST_IMAGES};
use crate::text::{ClassCounts, class_name};

/// One row of 28x28 images (`pixels` holds them one after the other), scaled up by CSS.
#[component]
fn ImageRow(pixels: Signal<Option<Vec<f32>>>, columns: usize, testid: &'static str, label: Signal<String>) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let (Some(canvas), Some(pixels)) = (canvas.get(), pixels.get()) else { return };
        if let Err(e) = image_grid(&canvas, &[&pixels], columns) {
            leptos::logging::warn!("{testid}: {e}");
        }
    });
    view! {
        <canvas node_ref=canvas class="images" class:single=columns <= 2 data-testid=testid role="img" aria-label=label
            width=(columns * IMAGE_SIDE).to_string() height=IMAGE_SIDE.to_string()></canvas>
    }
}

/// A test-image number, 0 to 9,999.
#[component]
fn ImageNumber(label: Signal<&'static str>, value: Signal<usize>, on_set: Callback<usize>, testid: &'static str) -> impl IntoView {
    view! {
        <label class="number">
            <span>{label}</span>
            <input type="number" min="0" max={(TEST_IMAGES - 1).to_string()} step="1" data-testid=testid prop:value=move || value.get().to_string()
                on:change=move |ev| { if let Ok(v) = event_target_value(&ev).trim().parse::<usize>() { on_set.run(v.min(TEST_IMAGES - 1)) } } />
        </label>
    }
}

#[component]
pub fn ExplorePanel() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let available = Signal::derive(move || page.model_available());
    let training = Signal::derive(move || page.phase.get() == Phase::Training);
    view! {
        <Show when=move || !available.get()>
            <p class="hint">
                {move || if training.get() { t_string!(i18n, explore.needs_model_training) } else { t_string!(i18n, explore.needs_model) }}
            </p>
        </Show>
        <div class="tools" class:faded=move || !available.get()>
            <PickedImage />
            <NoiseSlider />
            <DrawingPad />
            <CodeWalk />
        </div>
    }
}

#[component]
fn PickedImage() -> impl IntoView {
    let (tools, i18n) = (use_page().tools, use_i18n());
    let picked = tools.picked;
    let look = Signal::derive(move || tools.look.get().flatten());
    let test = use_page().data;
    let picked_class = Signal::derive(move || match (picked.get(), test.labels()) {
        (Some(i), Some(labels)) if i < labels.len() => {
            let locale = i18n.get_locale();
            td_string!(locale, explore.picked_class, index = i, class = class_name(locale, labels[i])).to_string()
        }
        _ => String::new(),
    });
    let strip = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let (Some(canvas), Some(look)) = (strip.get(), look.get()) else { return };
        let _ = code_strip(&canvas, &look.code);
    });
    let pair = Signal::derive(move || look.get().map(|l| [l.original, l.reconstruction].concat()));
    let code_text = move || look.get().map(|l| l.code.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(" ")).unwrap_or_default();
    let dimensions = move || look.get().map(|l| l.code.len()).unwrap_or(32);
    view! {
        <div class="tool" data-testid="picked">
            <h3>{t!(i18n, explore.picked_title)}</h3>
            <ImageNumber label=Signal::derive(move || t_string!(i18n, explore.picked_label)) value=Signal::derive(move || picked.get().unwrap_or(0))
                on_set=Callback::new(move |v| picked.set(Some(v))) testid="picked-index" />
            <p class="caption">{picked_class}</p>
            <ImageRow pixels=pair columns=2 testid="picked-images"
                label=Signal::derive(move || td_string!(i18n.get_locale(), explore.picked_alt, what = picked_class.get()).to_string()) />
            <p class="caption">{move || td_string!(i18n.get_locale(), explore.code_caption, n = dimensions())}</p>
            <canvas node_ref=strip class="code" data-testid="code" role="img" aria-label=move || td_string!(i18n.get_locale(), explore.code_alt, values = code_text())></canvas>
            <NearestImages />
            <details>
                <summary>{t!(i18n, explore.numbers)}</summary>
                <p class="code-values" data-testid="code-values">{code_text}</p>
            </details>
        </div>
    }
}

/// The test images whose codes are nearest the picked one's: what the code calls alike.
#[component]
fn NearestImages() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let (nearest, picked) = (page.tools.nearest, page.tools.picked);
    let nearest = Signal::derive(move || nearest.get().flatten());
    let pixels = Signal::derive(move || Some(page.data.test()?.batch_pixels(&nearest.get()?)));
    let label = Signal::derive(move || {
        let (locale, index, labels) = (i18n.get_locale(), picked.get().unwrap_or(0), page.data.labels());
        let classes = match (nearest.get(), labels) {
            (Some(nearest), Some(labels)) => ClassCounts::of_images(&nearest, &labels),
            _ => ClassCounts(Vec::new()),
        };
        td_string!(locale, knn.nearest_alt, k = NEAREST_SHOWN, index = index, classes = classes.text(locale)).to_string()
    });
    view! {
        <Show when=move || nearest.get().is_some()>
            <p class="caption">{move || td_string!(i18n.get_locale(), knn.nearest, index = picked.get().unwrap_or(0))}</p>
            <ImageRow pixels columns=NEAREST_SHOWN testid="nearest-images" label />
        </Show>
    }
}

#[component]
fn NoiseSlider() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let corruption = RwSignal::new(Corruption { noise_stddev: 0.3, dropout_rate: 0.0 });
    let result = LocalResource::new(move || {
        let (model, test, index, level) = (page.tools.live_model(), page.data.test(), page.tools.picked.get(), corruption.get());
        async move { page.tools.corrupted(model?, test?, index?, level).await }
    });
    let pair = Signal::derive(move || result.get().flatten().map(|(seen, reconstruction)| [seen, reconstruction].concat()));
    let slider = move |label: fn(Locale) -> &'static str, max: f64, testid: &'static str, get: fn(&Corruption) -> f64, set: fn(&mut Corruption, f64)| {
        view! {
            <label class="slider">
                <span>{move || label(i18n.get_locale())}</span>
                <input type="range" min="0" max={max.to_string()} step="0.05" data-testid=testid
                    prop:value=move || get(&corruption.get()).to_string()
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { corruption.update(|c| set(c, v)) } } />
                <output>{move || format!("{:.2}", get(&corruption.get()))}</output>
            </label>
        }
    };
    view! {
        <div class="tool" data-testid="noise">
            <h3>{t!(i18n, explore.corrupt_title)}</h3>
            {slider(|l| td_string!(l, explore.noise), MAX_NOISE_STDDEV, "noise-stddev", |c| c.noise_stddev, |c, v| c.noise_stddev = v)}
            {slider(|l| td_string!(l, explore.dropout), MAX_DROPOUT_RATE, "dropout-rate", |c| c.dropout_rate, |c, v| c.dropout_rate = v)}
            <ImageRow pixels=pair columns=2 testid="noise-images"
                label=Signal::derive(move || {
                    let c = corruption.get();
                    let (noise, dropout) = (format!("{:.2}", c.noise_stddev), format!("{:.2}", c.dropout_rate));
                    td_string!(i18n.get_locale(), explore.corrupt_alt, noise = noise, dropout = dropout).to_string()
                }) />
            <p class="caption">{t!(i18n, explore.corrupt_caption)}</p>
        </div>
    }
}

#[component]
fn CodeWalk() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let picked = page.tools.picked;
    let walk_ends = RwSignal::new((0usize, 1usize));
    let walk = LocalResource::new(move || {
        let (model, test, (from, to)) = (page.tools.live_model(), page.data.test(), walk_ends.get());
        async move { page.tools.walk(model?, test?, from, to).await }
    });
    let images = Signal::derive(move || walk.get().flatten());
    view! {
        <div class="tool wide" data-testid="walk">
            <h3>{t!(i18n, explore.walk_title)}</h3>
            <div class="ends">
                <ImageNumber label=Signal::derive(move || t_string!(i18n, explore.walk_from)) value=Signal::derive(move || walk_ends.get().0)
                    on_set=Callback::new(move |v| walk_ends.update(|e| e.0 = v)) testid="walk-from" />
                <button on:click=move |_| { if let Some(p) = picked.get_untracked() { walk_ends.update(|e| e.0 = p) } }>{t!(i18n, explore.use_picked)}</button>
                <ImageNumber label=Signal::derive(move || t_string!(i18n, explore.walk_to)) value=Signal::derive(move || walk_ends.get().1)
                    on_set=Callback::new(move |v| walk_ends.update(|e| e.1 = v)) testid="walk-to" />
                <button on:click=move |_| { if let Some(p) = picked.get_untracked() { walk_ends.update(|e| e.1 = p) } }>{t!(i18n, explore.use_picked)}</button>
            </div>
            <ImageRow pixels=images columns=WALK_STEPS testid="walk-images"
                label=Signal::derive(move || {
                    let (from, to) = walk_ends.get();
                    td_string!(i18n.get_locale(), explore.walk_alt, n = WALK_STEPS, from = from, to = to).to_string()
                }) />
            <p class="caption">{t!(i18n, explore.walk_caption)}</p>
        </div>
    }
}

/// Brush radius in image pixels: strokes about as thick as Fashion-MNIST's edges.
const BRUSH: f32 = 1.5;

#[component]
fn DrawingPad() -> impl IntoView {
    let (tools, i18n) = (use_page().tools, use_i18n());
    let drawing = tools.drawing;
    let drawn = Signal::derive(move || tools.drawn.get().flatten());
    let data = use_page().data;
    // The picked test image as the pad's start, from the page's test images (tracked: a copy
    // asked for before they are in is made when they come).
    let picked_pixels = move || {
        let (index, test) = (tools.picked.get()?, data.test()?);
        (index < test.len()).then(|| test.batch_pixels(&[index]))
    };
    // Asked for before the picked image's pixels are here: the pad takes them once they are.
    let copy_wanted = RwSignal::new(false);
    let pad = NodeRef::<Canvas>::new();
    let pixels = StoredValue::new(vec![0.0f32; IMAGE_PIXELS]);
    let pressed = StoredValue::new(false);

    let repaint = move || {
        let Some(canvas) = pad.get_untracked() else { return };
        let bytes: Vec<u8> = pixels.with_value(|p| p.iter().map(|v| (255.0 * v.clamp(0.0, 1.0)) as u8).collect());
        if let Ok(context) = context_2d(&canvas) {
            let _ = put_image(&context, &bytes, 0.0, 0.0, 1);
        }
    };
    Effect::new(move |_| {
        if pad.get().is_some() {
            repaint();
        }
    });
    let paint = move |ev: &web_sys::PointerEvent| {
        let Some(canvas) = pad.get_untracked() else { return };
        let scale = IMAGE_SIDE as f32 / canvas.client_width().max(1) as f32;
        let (x, y) = (ev.offset_x() as f32 * scale, ev.offset_y() as f32 * scale);
        pixels.update_value(|p| {
            for (i, value) in p.iter_mut().enumerate() {
                let (px, py) = ((i % IMAGE_SIDE) as f32 + 0.5, (i / IMAGE_SIDE) as f32 + 0.5);
                let distance = ((px - x).powi(2) + (py - y).powi(2)).sqrt();
                *value = value.max((1.0 - (distance - BRUSH) / 1.0).clamp(0.0, 1.0));
            }
        });
        repaint();
    };
    let finish = move || {
        if pressed.get_value() {
            pressed.set_value(false);
            drawing.set(Some(pixels.get_value()));
        }
    };
    let set_pad = move |values: Vec<f32>| {
        pixels.set_value(values);
        repaint();
        drawing.set(Some(pixels.get_value()));
    };
    Effect::new(move |_| {
        if copy_wanted.get()
            && let Some(picked) = picked_pixels()
        {
            copy_wanted.set(false);
            set_pad(picked);
        }
    });
    let result = Signal::derive(move || drawn.get().map(|d| d.look.reconstruction));
    view! {
        <div class="tool" data-testid="draw">
            <h3>{t!(i18n, explore.draw_title)}</h3>
            <div class="pad-row">
                <canvas node_ref=pad class="pad" data-testid="pad" width=IMAGE_SIDE.to_string() height=IMAGE_SIDE.to_string()
                    role="img" aria-label=move || t_string!(i18n, explore.pad_alt)
                    on:pointerdown=move |ev| {
                        pressed.set_value(true);
                        if let Some(canvas) = pad.get_untracked() {
                            let _ = canvas.set_pointer_capture(ev.pointer_id());
                        }
                        paint(&ev);
                    }
                    on:pointermove=move |ev| { if pressed.get_value() { paint(&ev) } }
                    on:pointerup=move |_| finish()
                    on:pointercancel=move |_| finish()></canvas>
                <ImageRow pixels=result columns=1 testid="drawn-reconstruction"
                    label=Signal::derive(move || t_string!(i18n, explore.drawn_alt).to_string()) />
            </div>
            <div class="buttons">
                <button data-testid="pad-clear" on:click=move |_| { set_pad(vec![0.0; IMAGE_PIXELS]); drawing.set(None); }>{t!(i18n, explore.clear)}</button>
                <button data-testid="pad-copy" on:click=move |_| copy_wanted.set(true)>{t!(i18n, explore.from_picked)}</button>
            </div>
            <p class="caption" data-testid="drawn-place" aria-live="polite">
                {move || {
                    let locale = i18n.get_locale();
                    match drawn.get() {
                        None => td_string!(locale, explore.draw_hint).to_string(),
                        Some(Drawn { neighbours: Some(n), .. }) => td_string!(locale, explore.lands_among, classes = n.text(locale)).to_string(),
                        Some(_) => td_string!(locale, explore.place_later).to_string(),
                    }
                }}
            </p>
        </div>
    }
}
