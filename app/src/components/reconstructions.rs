use leptos::html::Canvas;
use leptos::prelude::*;

use crate::charts::image_grid;
use crate::page::{RECONSTRUCTIONS_SHOWN, use_page};
use crate::state::Phase;

/// The run's latest reconstructions while it trains; else the shown model's (the run's last
/// ones until those are drawn).
#[component]
pub fn ReconstructionPanel() -> impl IntoView {
    let page = use_page();
    let reconstructions = Signal::derive(move || {
        let ran = page.training.reconstructions.get();
        if page.phase.get() == Phase::Training { ran } else { page.tools.reconstructions.get().flatten().or(ran) }
    });
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let (Some(canvas), Some(r)) = (canvas.get(), reconstructions.get()) else { return };
        let mut rows: Vec<&[f32]> = vec![&r.originals];
        if let Some(seen) = &r.seen {
            rows.push(seen);
        }
        rows.push(&r.outputs);
        if let Err(e) = image_grid(&canvas, &rows, RECONSTRUCTIONS_SHOWN) {
            leptos::logging::warn!("reconstructions: {e}");
        }
    });
    let labels = move || match reconstructions.get() {
        Some(r) if r.seen.is_some() => vec!["original", "what the model sees", "reconstruction"],
        _ => vec!["original", "reconstruction"],
    };
    view! {
        <div class="reconstructions">
            <div class="row-labels" aria-hidden="true">
                {move || labels().into_iter().map(|l| view! { <span>{l}</span> }).collect_view()}
            </div>
            <canvas node_ref=canvas class="images" data-testid="reconstructions" role="img"
                aria-label=move || format!("Test images: rows {}", labels().join(", "))></canvas>
        </div>
        <Show when=move || reconstructions.get().is_none()>
            <p class="hint">"Reconstructions of six test images appear after the first epoch."</p>
        </Show>
        <button on:click=move |_| page.other_images()>"Other images"</button>
    }
}
