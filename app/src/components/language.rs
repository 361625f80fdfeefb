use leptos::prelude::*;
use leptos_i18n::Locale as _;

use crate::i18n::{t, t_string, use_i18n};
use crate::page::use_page;
use crate::text::LANGUAGES;

/// 简体中文 | English. The choice goes into the settings, so the URL (and a copied link) keeps it.
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let (i18n, settings) = (use_i18n(), use_page().settings);
    view! {
        <nav class="languages" aria-label=move || t_string!(i18n, page.language)>
            <span class="visually-hidden">{t!(i18n, page.language)}</span>
            {LANGUAGES.into_iter().map(|(locale, name)| view! {
                <button class="link" lang=locale.as_str() data-testid=format!("lang-{}", locale.as_str())
                    aria-pressed=move || (i18n.get_locale() == locale).to_string()
                    on:click=move |_| settings.update(|s| s.lang = Some(locale))>{name}</button>
            }).collect_view()}
        </nav>
    }
}
