use leptos::prelude::*;
use protocol::Experiment;

use crate::i18n::{Locale, t, t_string, td_string, use_i18n};
use crate::page::use_page;
use crate::settings::{MAX_BATCH, MAX_DROPOUT_RATE, MAX_EPOCHS, MAX_LEARNING_RATE, MAX_NOISE_STDDEV, Settings};
use crate::state::Phase;
use crate::text::{experiment_explanation, experiment_name};

#[component]
pub fn Controls() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let (settings, phase, paused) = (page.settings, page.phase, page.training.paused);
    let training = move || phase.get() == Phase::Training;
    let can_train = move || page.can_train();
    let experiment = move || settings.get().experiment;
    let number_input = move |label: fn(Locale) -> &'static str, value: Signal<String>, min: String, max: String, step: &'static str, set: fn(&mut Settings, &str)| {
        view! {
            <label>
                <span>{move || label(i18n.get_locale())}</span>
                <input type="number" min=min max=max step=step prop:value=value disabled=training
                    on:change=move |ev| settings.update(|s| set(s, &event_target_value(&ev))) />
            </label>
        }
    };
    view! {
        <fieldset class="experiments" disabled=training>
            <legend>{t!(i18n, controls.experiment)}</legend>
            {Experiment::ALL
                .into_iter()
                .map(|e| {
                    view! {
                        <label class="experiment" class:chosen=move || experiment() == e>
                            <input type="radio" name="experiment" value=e.name()
                                prop:checked=move || experiment() == e
                                on:change=move |_| settings.update(|s| s.experiment = e) />
                            <strong>{move || experiment_name(i18n.get_locale(), e)}</strong>
                            <span class="explain">{move || experiment_explanation(i18n.get_locale(), e)}</span>
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
        <div class="settings">
            {number_input(|l| td_string!(l, controls.epochs), Signal::derive(move || settings.get().epochs.to_string()), "1".into(), MAX_EPOCHS.to_string(), "1",
                |s, v| if let Ok(v) = v.parse::<usize>() { s.epochs = v.clamp(1, MAX_EPOCHS) })}
            {number_input(|l| td_string!(l, controls.batch), Signal::derive(move || settings.get().batch_size.to_string()), "1".into(), MAX_BATCH.to_string(), "1",
                |s, v| if let Ok(v) = v.parse::<usize>() { s.batch_size = v.clamp(1, MAX_BATCH) })}
            {number_input(|l| td_string!(l, controls.learning_rate), Signal::derive(move || settings.get().learning_rate.to_string()), "0.001".into(), MAX_LEARNING_RATE.to_string(), "0.1",
                |s, v| if let Ok(v) = v.parse::<f64>() { if v > 0.0 && v <= MAX_LEARNING_RATE { s.learning_rate = v } })}
            <Show when=move || experiment() == Experiment::Denoising>
                {number_input(|l| td_string!(l, controls.noise), Signal::derive(move || settings.get().noise_stddev.to_string()), "0".into(), MAX_NOISE_STDDEV.to_string(), "0.05",
                    |s, v| if let Ok(v) = v.parse::<f64>() { if (0.0..=MAX_NOISE_STDDEV).contains(&v) { s.noise_stddev = v } })}
            </Show>
            <Show when=move || experiment() == Experiment::Dropout>
                {number_input(|l| td_string!(l, controls.dropout_rate), Signal::derive(move || settings.get().dropout_rate.to_string()), "0".into(), MAX_DROPOUT_RATE.to_string(), "0.05",
                    |s, v| if let Ok(v) = v.parse::<f64>() { if (0.0..=MAX_DROPOUT_RATE).contains(&v) { s.dropout_rate = v } })}
            </Show>
            {number_input(|l| td_string!(l, controls.seed), Signal::derive(move || settings.get().seed.to_string()), "0".into(), u64::MAX.to_string(), "1",
                |s, v| if let Ok(v) = v.parse::<u64>() { s.seed = v })}
        </div>
        <Show when=move || experiment().builds_on_tied()>
            <label class="inline from-tied">
                <input type="checkbox" data-testid="from-tied" prop:checked=move || settings.get().from_tied disabled=training
                    on:change=move |ev| settings.update(|s| s.from_tied = event_target_checked(&ev)) />
                " " {t!(i18n, controls.from_tied)}
            </label>
            <p class="explain">{t!(i18n, controls.from_tied_explain)}</p>
        </Show>
        <div class="buttons">
            <button class="primary" data-testid="train" disabled=move || !can_train() on:click=move |_| page.train()>{t!(i18n, controls.train)}</button>
            <button data-testid="pause" disabled=move || !training() on:click=move |_| page.pause_or_resume()>
                {move || if paused.get() { t_string!(i18n, controls.resume) } else { t_string!(i18n, controls.pause) }}
            </button>
            // A run still waiting for its data can be called off too.
            <button data-testid="stop" disabled=move || !(training() || page.training.is_starting(phase.get())) on:click=move |_| page.stop()>{t!(i18n, controls.stop)}</button>
        </div>
    }
}
