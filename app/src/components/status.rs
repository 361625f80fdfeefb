use leptos::prelude::*;

use crate::backend::{BackendInfo, BackendKind};
use crate::data::LoadProgress;
use crate::figures::status_line;
use crate::i18n::{t, t_string, td_string, use_i18n};
use crate::page::use_page;
use crate::text::Message;

/// Where training runs, the data's progress, the status line, notices and errors.
#[component]
pub fn StatusPanel() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let backend = Signal::derive(move || page.backend.with(|b| b.as_ref().map(|b| b.info.clone())));
    let usable = Signal::derive(move || page.data.usable());
    let status = move || {
        let epochs = page.settings.with_untracked(|s| s.epochs);
        page.training.figures.with(|f| status_line(i18n.get_locale(), page.phase.get(), page.training.paused.get(), f, epochs))
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
    let i18n = use_i18n();
    let kind = move || match backend.get().map(|b| b.kind) {
        Some(BackendKind::WebGpu) => t_string!(i18n, status.webgpu),
        Some(BackendKind::Cpu) => t_string!(i18n, status.cpu),
        None => t_string!(i18n, status.starting),
    };
    view! {
        <p class="backend">
            {t!(i18n, status.backend)}
            <strong data-testid="backend">{kind}</strong>
            <span class="why">{move || backend.get().map(|b| format!(" — {}", b.why.text(i18n.get_locale()))).unwrap_or_default()}</span>
        </p>
    }
}

#[component]
fn DataProgress(load: RwSignal<LoadProgress>) -> impl IntoView {
    let i18n = use_i18n();
    let fraction = move || {
        let p = load.get();
        if p.total_bytes == 0 { 0.0 } else { p.bytes as f64 / p.total_bytes as f64 }
    };
    let text = move || {
        let (p, locale) = (load.get(), i18n.get_locale());
        let (mb, total_mb) = (format!("{:.1}", p.bytes as f64 / 1e6), format!("{:.1}", p.total_bytes as f64 / 1e6));
        let (images, total_images) = (p.images, p.total_images);
        if p.total_bytes == 0 {
            td_string!(locale, status.manifest).to_string()
        } else if p.is_complete() {
            td_string!(locale, status.data_done, mb = mb, total_mb = total_mb, images = images, total_images = total_images).to_string()
        } else {
            td_string!(locale, status.data, mb = mb, total_mb = total_mb, images = images, total_images = total_images).to_string()
        }
    };
    view! {
        <div class="data-progress" data-testid="data-progress">
            <progress max="1" prop:value=fraction aria-label=move || t_string!(i18n, status.data_loaded)></progress>
            <span>{text}</span>
        </div>
    }
}

#[component]
fn ErrorBanner(error: RwSignal<Option<Message>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || error.get().is_some()>
            <div class="error" role="alert" data-testid="error">{move || error.get().map(|e| e.text(i18n.get_locale())).unwrap_or_default()}</div>
        </Show>
    }
}

#[component]
fn Notices(notices: RwSignal<Vec<Message>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || !notices.get().is_empty()>
            <ul class="notices" data-testid="notices">
                {move || notices.get().into_iter().map(|n| view! { <li>{n.text(i18n.get_locale())}</li> }).collect_view()}
            </ul>
        </Show>
    }
}

/// Data files that did not load, each named, and a Retry for them. What did load stays in use.
#[component]
fn LoadErrors(failures: RwSignal<Vec<String>>, usable: Signal<bool>, on_retry: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || !failures.get().is_empty()>
            <div class="error" role="alert" data-testid="load-error">
                <p>
                    {move || if usable.get() { t_string!(i18n, status.some_failed) } else { t_string!(i18n, status.all_failed) }}
                </p>
                <ul>{move || failures.get().into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                <button data-testid="retry" on:click=move |_| on_retry.run(())>{t!(i18n, status.retry)}</button>
            </div>
        </Show>
    }
}
