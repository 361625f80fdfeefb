use leptos::prelude::*;

use protocol::messages::{BackendKind, BackendNote, DataStatus};

use crate::browser;
use crate::figures::status_line;
use crate::i18n::{Locale, t, t_string, td_string, use_i18n};
use crate::page::use_page;
use crate::text::Message;

/// Where training runs, the data's progress, the status line, notices and errors.
#[component]
pub fn StatusPanel() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let backend = page.backend;
    let status_of_data = page.data.status;
    let status = move || {
        let epochs = page.settings.with_untracked(|s| s.epochs);
        page.training.figures.with(|f| status_line(i18n.get_locale(), page.phase.get(), page.training.paused.get(), f, epochs))
    };
    view! {
        <Backend backend live=Signal::derive(move || page.engine_started()) />
        <DataProgress status=status_of_data on_download=Callback::new(move |()| page.fetch_training()) />
        <LoadErrors status=status_of_data on_retry=Callback::new(move |()| page.retry()) />
        <Offline online=page.online status=status_of_data on_retry=Callback::new(move |()| page.retry()) />
        <p class="status-line" aria-live="polite" data-testid="status">{status}</p>
        <Notices notices=page.notices />
        <ErrorBanner error=page.error />
    }
}

#[component]
fn Backend(backend: RwSignal<Option<BackendNote>>, live: Signal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let kind = move || match backend.get().map(|b| b.kind) {
        Some(BackendKind::WebGpu) => t_string!(i18n, status.webgpu),
        Some(BackendKind::Cpu) => t_string!(i18n, status.cpu),
        None if live.get() => t_string!(i18n, status.starting),
        None => t_string!(i18n, status.not_started),
    };
    view! {
        <p class="backend">
            {t!(i18n, status.backend)}
            <strong data-testid="backend">{kind}</strong>
            <span class="why">{move || backend.get().map(|b| format!(" — {}", Message::Backend(b.why).text(i18n.get_locale()))).unwrap_or_default()}</span>
        </p>
    }
}

/// How far the data has come, and what a run would still fetch, with a button to fetch it now.
#[component]
fn DataProgress(status: RwSignal<DataStatus>, on_download: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let fraction = move || status.with(|p| if p.total_bytes == 0 { 0.0 } else { p.bytes as f64 / p.total_bytes as f64 });
    let megabytes = |bytes: usize| format!("{:.1}", bytes as f64 / 1e6);
    let text = move || {
        let (p, locale) = (status.get(), i18n.get_locale());
        let (mb, total_mb) = (megabytes(p.bytes), megabytes(p.total_bytes));
        let (images, total_images) = (p.images, p.total_images);
        if p.total_bytes == 0 {
            if p.fetching { td_string!(locale, status.manifest) } else { td_string!(locale, status.data_later) }.to_string()
        } else if p.complete() {
            td_string!(locale, status.data_done, mb = mb, total_mb = total_mb, images = images, total_images = total_images).to_string()
        } else {
            td_string!(locale, status.data, mb = mb, total_mb = total_mb, images = images, total_images = total_images).to_string()
        }
    };
    // Nothing of the training set asked for yet: say what a run will fetch, and offer it now.
    let training_later = move || status.with(|p| p.training_images == 0 && !p.failed() && !(p.fetching && p.test_in));
    let training_mb = move || status.with(|p| megabytes(p.training_bytes));
    view! {
        <div class="data-progress" data-testid="data-progress">
            <progress max="1" prop:value=fraction aria-label=move || t_string!(i18n, status.data_loaded)></progress>
            <span>{text}</span>
        </div>
        <Show when=training_later>
            <p class="training-later">
                {move || status.with(|p| p.total_bytes > 0).then(|| td_string!(i18n.get_locale(), status.training_later, mb = training_mb()).to_string())}
                " "
                <button class="link" data-testid="fetch-training" on:click=move |_| on_download.run(())>{t!(i18n, status.download)}</button>
            </p>
        </Show>
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
fn LoadErrors(status: RwSignal<DataStatus>, on_retry: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let failures = move || status.with(|s| s.failures.clone());
    view! {
        <Show when=move || status.with(|s| !s.failures.is_empty())>
            <div class="error" role="alert" data-testid="load-error">
                <p>
                    {move || what_trains(&status.get(), i18n.get_locale())}
                </p>
                <ul>{move || failures().into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                <button data-testid="retry" on:click=move |_| on_retry.run(())>{t!(i18n, status.retry)}</button>
            </div>
        </Show>
    }
}

/// Offline: what still works, and the files a run needs that only the network can bring (never
/// fetched on this device), with a Retry for when it is back.
#[component]
fn Offline(online: RwSignal<bool>, status: RwSignal<DataStatus>, on_retry: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let unreachable = move || status.with(|s| !s.unreachable.is_empty());
    let situation = move || {
        if browser::has_offline_copy() { t_string!(i18n, status.offline_copy) } else { t_string!(i18n, status.offline) }
    };
    let missing = move || {
        let (files, locale) = (status.with(|s| s.unreachable.join(", ")), i18n.get_locale());
        format!("{} {}", td_string!(locale, status.unreachable, files = files), what_trains(&status.get(), locale))
    };
    view! {
        <Show when=move || !online.get() || unreachable()>
            <div class="offline" role="status" data-testid="offline">
                <Show when=move || !online.get()><p>{situation}</p></Show>
                <Show when=unreachable>
                    <p data-testid="unreachable">{missing}</p>
                    <button data-testid="retry-unreachable" on:click=move |_| on_retry.run(())>{t!(i18n, status.retry)}</button>
                </Show>
            </div>
        </Show>
    }
}

/// What training can do with the data that did load, after some did not.
fn what_trains(status: &DataStatus, locale: Locale) -> &'static str {
    if status.usable() { td_string!(locale, status.some_failed) } else { td_string!(locale, status.all_failed) }
}
