use leptos::html::Canvas;
use leptos::prelude::*;
use model::data::{CLASS_NAMES, IMAGE_SIDE};

use crate::charts::{Frame, Marks, class_colors, context_2d, put_image, scatter};
use crate::page::use_page;
use crate::settings::Palette;

/// The t-SNE map of the test codes, growing as t-SNE iterates; hover a dot to see its image,
/// click it to explore it. The picked image is ringed, a drawing's place crossed.
#[component]
pub fn EmbeddingPanel() -> impl IntoView {
    let page = use_page();
    let (map, picked, settings) = (page.tools.map, page.tools.picked, page.settings);
    let test = Signal::derive_local(move || page.data.test());
    let drawn_at = Signal::derive(move || page.tools.drawn.get().flatten().and_then(|d| d.at));
    let palette = Signal::derive(move || settings.with(|s| s.palette));
    let on_palette = move |palette: Palette| settings.update(|s| s.palette = palette);
    let canvas = NodeRef::<Canvas>::new();
    let preview = NodeRef::<Canvas>::new();
    let pretty = RwSignal::new(false);
    let frame = StoredValue::new(None::<Frame>);
    let hovered = RwSignal::new(None::<usize>);

    Effect::new(move |_| {
        let (Some(canvas), Some(map), Some(test)) = (canvas.get(), map.get(), test.get()) else { return };
        let marks = Marks { picked: picked.get(), drawn: drawn_at.get() };
        match scatter(&canvas, &map.points, &test, pretty.get(), palette.get(), marks) {
            Ok(f) => frame.set_value(Some(f)),
            Err(e) => leptos::logging::warn!("embedding: {e}"),
        }
    });
    Effect::new(move |_| {
        let (Some(preview), Some(index), Some(test)) = (preview.get(), hovered.get(), test.get()) else { return };
        if let Ok(context) = context_2d(&preview) {
            let _ = put_image(&context, test.image(index), 0.0, 0.0, preview.width() as usize / IMAGE_SIDE);
        }
    });

    // The test image whose dot is under the pointer, if one is within reach.
    let dot_at = move |ev: &web_sys::MouseEvent| -> Option<usize> {
        let (canvas, frame, map, test) = (canvas.get_untracked()?, frame.get_value()?, map.get_untracked()?, test.get_untracked()?);
        let ratio = canvas.width() as f64 / canvas.client_width().max(1) as f64;
        let (x, y) = ((ev.offset_x() as f64 * ratio) as f32, (ev.offset_y() as f64 * ratio) as f32);
        let nearest = map.points.chunks_exact(2).take(test.len()).enumerate()
            .map(|(i, p)| { let (px, py) = frame.place(p[0], p[1]); (i, (px - x).powi(2) + (py - y).powi(2)) })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let reach = (8.0 * ratio) as f32;
        nearest.filter(|&(_, d)| d <= reach * reach).map(|(i, _)| i)
    };

    let status = move || match map.get() {
        None => "The map of the 10,000 test codes appears when training finishes.".to_string(),
        Some(m) if m.precomputed => format!("t-SNE of the {} test codes of the pretrained model (computed when it was trained).", m.points.len() / 2),
        Some(m) if m.done => format!("t-SNE of the {} test codes, {} iterations in {:.1} s.", m.points.len() / 2, m.total, m.seconds),
        Some(m) => format!("t-SNE: iteration {} of {}…", m.iteration, m.total),
    };
    let hovered_text = move || hovered.get().and_then(|i| test.get().map(|t| format!("test image {i}: {}", CLASS_NAMES[usize::from(t.label(i)) % 10])));

    view! {
        <p class="map-status" data-testid="embedding-status" aria-live="polite">
            {status}
            <Show when=move || map.get().is_some_and(|m| !m.done)>
                <progress max="1" prop:value=move || map.get().map(|m| m.iteration as f64 / m.total.max(1) as f64).unwrap_or(0.0)></progress>
            </Show>
        </p>
        <div class="embedding">
            <canvas node_ref=canvas class="map" data-testid="embedding" role="img"
                aria-label="t-SNE map of the test images' codes, one dot per image coloured by class; click a dot to explore it (or type its number under Explore the codes)"
                on:mousemove=move |ev| hovered.set(dot_at(&ev)) on:mouseleave=move |_| hovered.set(None)
                on:click=move |ev| { if let Some(index) = dot_at(&ev) { picked.set(Some(index)) } }></canvas>
            <div class="side">
                <ul class="legend">
                    {move || CLASS_NAMES.iter().zip(class_colors(palette.get())).map(|(name, color)| view! {
                        <li><span class="swatch" style:background-color=color></span>{*name}</li>
                    }).collect_view()}
                </ul>
                <label class="inline">
                    <input type="checkbox" prop:checked=move || pretty.get() on:change=move |ev| pretty.set(event_target_checked(&ev)) />
                    " show images"
                </label>
                <label class="inline">
                    <input type="checkbox" data-testid="safe-colors" prop:checked=move || palette.get() == Palette::ColorBlindSafe
                        on:change=move |ev| on_palette(if event_target_checked(&ev) { Palette::ColorBlindSafe } else { Palette::Chapter }) />
                    " colour-blind-safe colours"
                </label>
                <div class="preview" class:hidden=move || hovered.get().is_none()>
                    <canvas node_ref=preview width="112" height="112" aria-hidden="true"></canvas>
                    <span>{hovered_text}</span>
                </div>
            </div>
        </div>
    }
}
