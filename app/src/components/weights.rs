use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

/// Saving the shown model's weights and history, loading weights from a file, and a link to
/// these settings.
#[component]
pub fn WeightsControls(
    /// A model is shown and no run is writing to it.
    can_save: Signal<bool>,
    /// The page is up and no run is going.
    can_load: Signal<bool>,
    /// What the shown model is (pretrained, imported, trained here), if anything.
    shown: RwSignal<Option<String>>,
    on_save_weights: Callback<()>,
    on_save_history: Callback<()>,
    on_load: Callback<File>,
    on_copy_link: Callback<()>,
) -> impl IntoView {
    let on_pick = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            on_load.run(file);
        }
        // Picking the same file again must fire again.
        input.set_value("");
    };
    view! {
        <p class="shown" data-testid="shown" aria-live="polite">{move || shown.get().unwrap_or_default()}</p>
        <div class="buttons files">
            <button data-testid="save-weights" disabled=move || !can_save.get() on:click=move |_| on_save_weights.run(())>
                "Save weights (.safetensors)"
            </button>
            <button data-testid="save-history" disabled=move || !can_save.get() on:click=move |_| on_save_history.run(())>
                "Save history (.json)"
            </button>
            <label class="file-button">
                "Load weights…"
                <input type="file" accept=".safetensors" data-testid="load-weights" disabled=move || !can_load.get()
                    on:change=on_pick />
            </label>
            <button data-testid="copy-link" on:click=move |_| on_copy_link.run(())>"Copy link"</button>
        </div>
    }
}
