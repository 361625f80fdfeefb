use leptos::html::Canvas;
use leptos::prelude::*;

use crate::browser::NextPaint;
use crate::charts::image_grid;
use crate::i18n::{t, td_string, use_i18n};
use crate::page::{RECONSTRUCTIONS_SHOWN, use_page};
use crate::state::Phase;

/// The run's latest reconstructions while it trains; else the shown model's (the run's last
/// ones until those are drawn).
#[component]
pub fn ReconstructionPanel() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let reconstructions = Signal::derive(move || {
        let ran = page.training.reconstructions.get();
        if page.phase.get() == Phase::Training { ran } else { page.tools.reconstructions.get().flatten().or(ran) }
    });
    let canvas = NodeRef::<Canvas>::new();
    let next = NextPaint::default();
    Effect::new(move |_| {
        let (Some(canvas), Some(r)) = (canvas.get(), reconstructions.get()) else { return };
        next.draw(move || {
            let rows: Vec<&[f32]> = [Some(&r.originals), r.seen.as_ref(), Some(&r.outputs)].into_iter().flatten().map(Vec::as_slice).collect();
            if let Err(e) = image_grid(&canvas, &rows, RECONSTRUCTIONS_SHOWN) {
                leptos::logging::warn!("reconstructions: {e}");
            }
        });
    });
    let labels = move || {
        let locale = i18n.get_locale();
        let (original, seen, reconstruction) =
            (td_string!(locale, reconstructions.original), td_string!(locale, reconstructions.seen), td_string!(locale, reconstructions.reconstruction));
        match reconstructions.get() {
            Some(r) if r.seen.is_some() => vec![original, seen, reconstruction],
            _ => vec![original, reconstruction],
        }
    };
    view! {
        <div class="reconstructions">
            <div class="row-labels" aria-hidden="true">
                {move || labels().into_iter().map(|l| view! { <span>{l}</span> }).collect_view()}
            </div>
            <canvas node_ref=canvas class="images" data-testid="reconstructions" role="img"
                aria-label=move || td_string!(i18n.get_locale(), reconstructions.alt, rows = labels().join(", "))></canvas>
        </div>
        <Show when=move || reconstructions.get().is_none()>
            <p class="hint">{t!(i18n, reconstructions.hint)}</p>
        </Show>
        <button on:click=move |_| page.other_images()>{t!(i18n, reconstructions.other)}</button>
    }
}
