use leptos::prelude::*;

use crate::backend::BackendInfo;
use crate::data::LoadProgress;
use crate::figures::status_line;
use crate::page::use_page;

/// Where training runs, the data's progress, the status line, notices and errors.
#[component]
pub fn StatusPanel() -> impl IntoView {
    let page = use_page();
    let backend = Signal::derive(move || page.backend.with(|b| b.as_ref().map(|b| b.info.clone())));
    let usable = Signal::derive(move || page.data.usable());
    let status = move || {
        let epochs = page.settings.with_untracked(|s| s.epochs);
        page.training.figures.with(|f| status_line(page.phase.get(), page.training.paused.get(), f, epochs))
    };
    view! {
        <BackendNote backend />
        <DataProgress load=page.data.progress />
        <LoadErrors failures=page.data.failures usable on_retry=Callback::new(move |()| page.load_data()) />
        <p class="status-line" aria-live="polite" data-testid="status">{status}</p>
        <Notices notices=page.notices />
        <ErrorBanner error=page.error />
    }
}

#[component]
fn BackendNote(backend: Signal<Option<BackendInfo>>) -> impl IntoView {
    view! {
        <p class="backend">
            "Backend: "
            <strong data-testid="backend">
                {move || backend.get().map(|b| b.kind.label()).unwrap_or("starting…")}
            </strong>
            <span class="why">{move || backend.get().map(|b| format!(" — {}", b.why)).unwrap_or_default()}</span>
        </p>
    }
}

#[component]
fn DataProgress(load: RwSignal<LoadProgress>) -> impl IntoView {
    let fraction = move || {
        let p = load.get();
        if p.total_bytes == 0 { 0.0 } else { p.bytes as f64 / p.total_bytes as f64 }
    };
    let text = move || {
        let p = load.get();
        if p.total_bytes == 0 {
            "Fetching the data manifest…".to_string()
        } else {
            format!(
                "Fashion-MNIST: {:.1} / {:.1} MB, {} / {} images{}",
                p.bytes as f64 / 1e6,
                p.total_bytes as f64 / 1e6,
                p.images,
                p.total_images,
                if p.is_complete() { " — all loaded" } else { "" }
            )
        }
    };
    view! {
        <div class="data-progress" data-testid="data-progress">
            <progress max="1" prop:value=fraction aria-label="data loaded"></progress>
            <span>{text}</span>
        </div>
    }
}

#[component]
fn ErrorBanner(error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <div class="error" role="alert" data-testid="error">{move || error.get().unwrap_or_default()}</div>
        </Show>
    }
}

#[component]
fn Notices(notices: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <Show when=move || !notices.get().is_empty()>
            <ul class="notices" data-testid="notices">
                {move || notices.get().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
            </ul>
        </Show>
    }
}

/// Data files that did not load, each named, and a Retry for them. What did load stays in use.
#[component]
fn LoadErrors(failures: RwSignal<Vec<String>>, usable: Signal<bool>, on_retry: Callback<()>) -> impl IntoView {
    view! {
        <Show when=move || !failures.get().is_empty()>
            <div class="error" role="alert" data-testid="load-error">
                <p>
                    {move || if usable.get() {
                        "Some data files did not load; training uses the images that did."
                    } else {
                        "The data did not load, so nothing can be trained yet."
                    }}
                </p>
                <ul>{move || failures.get().into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                <button data-testid="retry" on:click=move |_| on_retry.run(())>"Retry"</button>
            </div>
        </Show>
    }
}
