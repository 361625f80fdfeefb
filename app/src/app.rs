//! The page's layout. Its state and what a visitor can do live in [`Page`], which every panel
//! reads from context; the language lives in leptos_i18n's context, which follows the page's
//! settings (and so the URL's `lang=`), else the browser's languages.

use leptos::prelude::*;

use crate::components::{
    ComparePanel, Controls, Curves, EmbeddingPanel, ExplorePanel, HistoryTable, LanguageSwitcher, ModelSummary, ReconstructionPanel,
    StatusPanel, WeightsControls,
};
use crate::i18n::{I18nContextProvider, t, t_string, use_i18n};
use crate::page::Page;
use crate::settings::Panel;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <I18nContextProvider>
            <Layout />
        </I18nContextProvider>
    }
}

#[component]
fn Layout() -> impl IntoView {
    let i18n = use_i18n();
    let page = Page::new();
    provide_context(page);
    page.boot();
    // A language chosen by the link or the switcher; else the browser's stays.
    Effect::new(move |_| {
        if let Some(lang) = page.settings.with(|s| s.lang) {
            i18n.set_locale(lang);
        }
    });

    // The tab's title, in the page's language.
    Effect::new(move |_| document().set_title(t_string!(i18n, page.document_title)));

    // The static skeleton index.html painted before any wasm ran: the page is here now.
    Effect::new(move |_| crate::browser::remove_element("skeleton"));

    // Parts a course page left out with hide=; fixed at load.
    let hidden = move |panel: Panel| !page.settings.with_untracked(|s| s.shows(panel));

    // The panels below the first view come a frame later, so the page's first task (its mount)
    // stays short.
    let below = RwSignal::new(false);
    request_animation_frame(move || below.set(true));

    view! {
        <header class:omitted=hidden(Panel::Header)>
            <LanguageSwitcher />
            <h1>{t!(i18n, page.title)}</h1>
            <p class="lede">{t!(i18n, page.lede)}</p>
        </header>
        <main>
            <section class="panel controls" aria-label=move || t_string!(i18n, page.settings) class:omitted=hidden(Panel::Controls)>
                <Controls />
                <WeightsControls />
            </section>
            <section class="panel status" aria-label=move || t_string!(i18n, page.status) class:omitted=hidden(Panel::Status)>
                <StatusPanel />
            </section>
            <section class="panel curves" aria-label=move || t_string!(i18n, page.curves) class:omitted=hidden(Panel::Curves)>
                <h2>{t!(i18n, page.curves)}</h2>
                <Curves />
                <ModelSummary />
            </section>
            <section class="panel recon" aria-label=move || t_string!(i18n, page.reconstructions) class:omitted=hidden(Panel::Reconstructions)>
                <h2>{t!(i18n, page.reconstructions)}</h2>
                <ReconstructionPanel />
            </section>
            <section class="panel embed" aria-label=move || t_string!(i18n, page.map) class:omitted=hidden(Panel::Map)>
                <h2>{t!(i18n, page.map)}</h2>
                <EmbeddingPanel />
            </section>
            <Show when=move || below.get()>
                <section class="panel explore" aria-label=move || t_string!(i18n, page.explore) class:omitted=hidden(Panel::Explore)>
                    <h2>{t!(i18n, page.explore)}</h2>
                    <ExplorePanel />
                </section>
                <section class="panel compare" aria-label=move || t_string!(i18n, page.compare) class:omitted=hidden(Panel::Compare)>
                    <h2>{t!(i18n, page.compare)}</h2>
                    <ComparePanel />
                </section>
                <section class="panel table" aria-label=move || t_string!(i18n, page.history) class:omitted=hidden(Panel::Table)>
                    <HistoryTable />
                </section>
            </Show>
        </main>
    }
}
