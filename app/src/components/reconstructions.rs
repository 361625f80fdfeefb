use leptos::html::Canvas;
use leptos::prelude::*;

use crate::charts::image_grid;
use crate::run::Reconstructions;

pub const SHOWN: usize = 6;

#[component]
pub fn ReconstructionPanel(reconstructions: RwSignal<Option<Reconstructions>>, on_other_images: Callback<()>) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let (Some(canvas), Some(r)) = (canvas.get(), reconstructions.get()) else { return };
        let mut rows: Vec<&[f32]> = vec![&r.originals];
        if let Some(seen) = &r.seen {
            rows.push(seen);
        }
        rows.push(&r.outputs);
        if let Err(e) = image_grid(&canvas, &rows, SHOWN) {
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
        <button on:click=move |_| on_other_images.run(())>"Other images"</button>
    }
}
