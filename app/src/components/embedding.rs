use leptos::html::Canvas;
use leptos::prelude::*;
use protocol::data::IMAGE_SIDE;
use protocol::messages::KNN_ROWS;

use crate::browser::NextPaint;
use crate::charts::{Frame, Marks, class_colors, context_2d, put_image, scatter};
use crate::embedding::MapState;
use crate::i18n::{Locale, t, t_string, td_string, use_i18n};
use crate::page::use_page;
use crate::settings::{DEFAULT_PERPLEXITY, MAX_PERPLEXITY, MIN_PERPLEXITY, MapMethod, Palette};
use crate::text::{class_name, group_thousands, percent};

/// The map of the test codes: t-SNE growing as it iterates, or PCA of the codes or of the raw
/// pixels; hover a dot to see its image, click it to explore it. The picked image is ringed, a
/// drawing's place crossed. Below it, the map's lessons: method, perplexity, and how often the
/// nearest code shares the class.
#[component]
pub fn EmbeddingPanel() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let (map, picked, settings) = (page.tools.shown_map, page.tools.picked, page.settings);
    let test = Signal::derive_local(move || page.data.test());
    let labels = Signal::derive_local(move || page.data.labels());
    let drawn_at = Signal::derive(move || page.tools.drawn.get().flatten().and_then(|d| d.at));
    let palette = Signal::derive(move || settings.with(|s| s.palette));
    let on_palette = move |palette: Palette| settings.update(|s| s.palette = palette);
    let canvas = NodeRef::<Canvas>::new();
    let preview = NodeRef::<Canvas>::new();
    let pretty = RwSignal::new(false);
    let frame = StoredValue::new(None::<Frame>);
    let hovered = RwSignal::new(None::<usize>);

    let next = NextPaint::default();
    Effect::new(move |_| {
        let (Some(canvas), Some(map), Some(labels)) = (canvas.get(), map.get(), labels.get()) else { return };
        let marks = Marks { picked: picked.get(), drawn: drawn_at.get() };
        // Thumbnails once the test images are in; the dots need only the labels.
        let test = if pretty.get() { test.get() } else { None };
        let palette = palette.get();
        // In a task of its own: the map is the first view's largest drawing, and the page's
        // first task (its mount) is long enough without it.
        next.draw(move || match scatter(&canvas, &map.points, &labels, test.as_deref(), palette, marks) {
            Ok(f) => frame.set_value(Some(f)),
            Err(e) => leptos::logging::warn!("embedding: {e}"),
        });
    });
    Effect::new(move |_| {
        let (Some(preview), Some(index), Some(test)) = (preview.get(), hovered.get(), test.get()) else { return };
        if let Ok(context) = context_2d(&preview) {
            let _ = put_image(&context, test.image(index), 0.0, 0.0, preview.width() as usize / IMAGE_SIDE);
        }
    });

    // The test image whose dot is under the pointer, if one is within reach.
    let dot_at = move |ev: &web_sys::MouseEvent| -> Option<usize> {
        let (canvas, frame, map, labels) = (canvas.get_untracked()?, frame.get_value()?, map.get_untracked()?, labels.get_untracked()?);
        let ratio = canvas.width() as f64 / canvas.client_width().max(1) as f64;
        let (x, y) = ((ev.offset_x() as f64 * ratio) as f32, (ev.offset_y() as f64 * ratio) as f32);
        let nearest = map.points.chunks_exact(2).take(labels.len()).enumerate()
            .map(|(i, p)| { let (px, py) = frame.place(p[0], p[1]); (i, (px - x).powi(2) + (py - y).powi(2)) })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let reach = (8.0 * ratio) as f32;
        nearest.filter(|&(_, d)| d <= reach * reach).map(|(i, _)| i)
    };

    let status = move || map_status(i18n.get_locale(), map.get(), page.tools.model().is_some());
    let hovered_text = move || {
        let locale = i18n.get_locale();
        hovered.get().and_then(|i| labels.get()?.get(i).map(|&label| td_string!(locale, map.hovered, index = i, class = class_name(locale, label)).to_string()))
    };

    view! {
        <p class="map-status" data-testid="embedding-status" aria-live="polite">
            {status}
            <Show when=move || map.get().is_some_and(|m| !m.done)>
                <progress max="1" prop:value=move || map.get().map(|m| m.iteration as f64 / m.total.max(1) as f64).unwrap_or(0.0)></progress>
            </Show>
        </p>
        <div class="embedding">
            <canvas node_ref=canvas class="map" data-testid="embedding" role="img"
                aria-label=move || t_string!(i18n, map.alt)
                on:mousemove=move |ev| hovered.set(dot_at(&ev)) on:mouseleave=move |_| hovered.set(None)
                on:click=move |ev| { if let Some(index) = dot_at(&ev) { picked.set(Some(index)) } }></canvas>
            <div class="side">
                <ul class="legend">
                    {move || (0u8..).zip(class_colors(palette.get())).map(|(label, color)| view! {
                        <li><span class="swatch" style:background-color=color></span>{class_name(i18n.get_locale(), label)}</li>
                    }).collect_view()}
                </ul>
                <label class="inline">
                    <input type="checkbox" prop:checked=move || pretty.get() on:change=move |ev| pretty.set(event_target_checked(&ev)) />
                    {t!(i18n, map.show_images)}
                </label>
                <label class="inline">
                    <input type="checkbox" data-testid="safe-colors" prop:checked=move || palette.get() == Palette::ColorBlindSafe
                        on:change=move |ev| on_palette(if event_target_checked(&ev) { Palette::ColorBlindSafe } else { Palette::Chapter }) />
                    {t!(i18n, map.safe_colours)}
                </label>
                <div class="preview" class:hidden=move || hovered.get().is_none()>
                    <canvas node_ref=preview width="112" height="112" aria-hidden="true"></canvas>
                    <span>{hovered_text}</span>
                </div>
            </div>
        </div>
        <MapLessons />
    }
}

/// What the status line says of the map.
fn map_status(locale: Locale, map: Option<MapState>, model_shown: bool) -> String {
    let Some(m) = map else {
        return if model_shown { td_string!(locale, map.computing) } else { td_string!(locale, map.waiting) }.to_string();
    };
    let n = m.points.len() / 2;
    let ms = format!("{:.0}", m.seconds * 1e3);
    match m.method {
        MapMethod::Tsne if m.precomputed => td_string!(locale, map.precomputed, n = n).to_string(),
        MapMethod::Tsne if m.done => {
            let seconds = format!("{:.1}", m.seconds);
            td_string!(locale, map.done, n = n, perplexity = m.perplexity, iterations = m.total, seconds = seconds).to_string()
        }
        MapMethod::Tsne => td_string!(locale, map.progress, perplexity = m.perplexity, iteration = m.iteration, total = m.total).to_string(),
        MapMethod::PcaCodes => td_string!(locale, map.pca_codes_done, n = n, ms = ms).to_string(),
        MapMethod::PcaPixels => td_string!(locale, map.pca_pixels_done, n = n, ms = ms).to_string(),
    }
}

/// The questions a student asks of the map: is t-SNE inventing the clusters (the method
/// switch), what does perplexity do, and what does the code keep (k-NN accuracy).
#[component]
fn MapLessons() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let settings = page.settings;
    let method = move || settings.with(|s| s.map);
    let perplexity = move || settings.with(|s| s.perplexity);
    let method_name = move |m: MapMethod| match m {
        MapMethod::Tsne => t_string!(i18n, map.tsne),
        MapMethod::PcaCodes => t_string!(i18n, map.pca_codes),
        MapMethod::PcaPixels => t_string!(i18n, map.pca_pixels),
    };
    let knn = move || {
        let locale = i18n.get_locale();
        let codes = page.tools.code_lessons.get().flatten()?.accuracy;
        let n = group_thousands(KNN_ROWS);
        Some(match page.tools.pixels.get().flatten() {
            Some(p) => td_string!(locale, knn.accuracy, n = n, codes = percent(codes), pixels = percent(p.accuracy)).to_string(),
            None => td_string!(locale, knn.pixels_pending, n = n, codes = percent(codes)).to_string(),
        })
    };
    view! {
        <div class="lessons">
            <fieldset class="methods" data-testid="map-method">
                <legend>{t!(i18n, map.method)}</legend>
                {MapMethod::ALL.into_iter().map(|m| view! {
                    <label class="inline">
                        <input type="radio" name="map-method" value=m.name() prop:checked=move || method() == m
                            on:change=move |_| settings.update(|s| s.map = m) />
                        " " {move || method_name(m)}
                    </label>
                }).collect_view()}
                <p class="explain">{t!(i18n, map.method_help)}</p>
            </fieldset>
            <Show when=move || method() == MapMethod::Tsne>
                <label class="slider perplexity">
                    <span>{t!(i18n, map.perplexity)}</span>
                    <input type="range" min=MIN_PERPLEXITY.to_string() max=MAX_PERPLEXITY.to_string() step="1" data-testid="perplexity"
                        prop:value=move || perplexity().to_string()
                        on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f32>() { settings.update(|s| s.perplexity = v.clamp(MIN_PERPLEXITY, MAX_PERPLEXITY)) } } />
                    <output>{move || format!("{:.0}", perplexity())}</output>
                </label>
                <p class="explain">{t!(i18n, map.perplexity_help)}
                    <Show when=move || perplexity() != DEFAULT_PERPLEXITY>
                        " " <button class="link" on:click=move |_| settings.update(|s| s.perplexity = DEFAULT_PERPLEXITY)>"30"</button>
                    </Show>
                </p>
            </Show>
            <h3>{t!(i18n, knn.title)}</h3>
            <p class="knn" data-testid="knn" aria-live="polite">{knn}</p>
            <p class="explain">{t!(i18n, knn.help)}</p>
        </div>
    }
}
