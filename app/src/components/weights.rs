use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use crate::i18n::{t, use_i18n};
use crate::page::use_page;

/// Saving the shown model's weights and history, loading weights from a file, and a link to
/// these settings.
#[component]
pub fn WeightsControls() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let can_save = move || page.model_available();
    let can_load = move || page.idle();
    let note = move || page.shown.with(|s| s.as_ref().map(|s| s.note.text(i18n.get_locale())).unwrap_or_default());
    let on_pick = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            page.load_weights(file);
        }
        // Picking the same file again must fire again.
        input.set_value("");
    };
    view! {
        <p class="shown" data-testid="shown" aria-live="polite">{note}</p>
        <div class="buttons files">
            <button data-testid="save-weights" disabled=move || !can_save() on:click=move |_| page.save_weights()>
                {t!(i18n, controls.save_weights)}
            </button>
            <button data-testid="save-history" disabled=move || !can_save() on:click=move |_| page.save_history()>
                {t!(i18n, controls.save_history)}
            </button>
            <label class="file-button">
                {t!(i18n, controls.load_weights)}
                <input type="file" accept=".safetensors" data-testid="load-weights" disabled=move || !can_load()
                    on:change=on_pick />
            </label>
            <button data-testid="copy-link" on:click=move |_| page.copy_link()>{t!(i18n, controls.copy_link)}</button>
        </div>
    }
}
