use leptos::prelude::*;
use model::Experiment;

use crate::settings::{MAX_BATCH, MAX_DROPOUT_RATE, MAX_EPOCHS, MAX_LEARNING_RATE, MAX_NOISE_STDDEV, Settings};
use crate::page::use_page;
use crate::state::Phase;

/// What each experiment changes, and why, in two lines.
pub fn explanation(experiment: Experiment) -> &'static str {
    match experiment {
        Experiment::Stacked => {
            "Encoder 784→128→64→32 and a mirrored decoder with its own weights (222,384 parameters). \
             Every image must squeeze through 32 numbers and be rebuilt from them."
        }
        Experiment::Tied => {
            "The decoder reuses the encoder's weights, transposed; each layer keeps its own bias. \
             Half the parameters (111,792) for reconstructions about as good: less to learn, less to overfit."
        }
        Experiment::Denoising => {
            "Tied, with Gaussian noise added to every input while training. \
             Rebuilding the clean image from a noisy one forces codes that capture shapes, not pixels."
        }
        Experiment::Dropout => {
            "Tied, with a share of the input pixels zeroed while training. \
             Filling in what is missing forces robust codes, as the noise does."
        }
    }
}

#[component]
pub fn Controls() -> impl IntoView {
    let page = use_page();
    let (settings, phase, paused) = (page.settings, page.phase, page.training.paused);
    let training = move || phase.get() == Phase::Training;
    let can_train = move || page.can_train();
    let experiment = move || settings.get().experiment;
    let number_input = move |label: &'static str, value: Signal<String>, min: String, max: String, step: &'static str, set: fn(&mut Settings, &str)| {
        view! {
            <label>
                <span>{label}</span>
                <input type="number" min=min max=max step=step prop:value=value disabled=training
                    on:change=move |ev| settings.update(|s| set(s, &event_target_value(&ev))) />
            </label>
        }
    };
    view! {
        <fieldset class="experiments" disabled=training>
            <legend>"Experiment"</legend>
            {Experiment::ALL
                .into_iter()
                .map(|e| {
                    view! {
                        <label class="experiment" class:chosen=move || experiment() == e>
                            <input type="radio" name="experiment" value=e.name()
                                prop:checked=move || experiment() == e
                                on:change=move |_| settings.update(|s| s.experiment = e) />
                            <strong>{e.name()}</strong>
                            <span class="explain">{explanation(e)}</span>
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
        <div class="settings">
            {number_input("epochs", Signal::derive(move || settings.get().epochs.to_string()), "1".into(), MAX_EPOCHS.to_string(), "1",
                |s, v| if let Ok(v) = v.parse::<usize>() { s.epochs = v.clamp(1, MAX_EPOCHS) })}
            {number_input("batch size", Signal::derive(move || settings.get().batch_size.to_string()), "1".into(), MAX_BATCH.to_string(), "1",
                |s, v| if let Ok(v) = v.parse::<usize>() { s.batch_size = v.clamp(1, MAX_BATCH) })}
            {number_input("learning rate", Signal::derive(move || settings.get().learning_rate.to_string()), "0.001".into(), MAX_LEARNING_RATE.to_string(), "0.1",
                |s, v| if let Ok(v) = v.parse::<f64>() { if v > 0.0 && v <= MAX_LEARNING_RATE { s.learning_rate = v } })}
            <Show when=move || experiment() == Experiment::Denoising>
                {number_input("noise stddev", Signal::derive(move || settings.get().noise_stddev.to_string()), "0".into(), MAX_NOISE_STDDEV.to_string(), "0.05",
                    |s, v| if let Ok(v) = v.parse::<f64>() { if (0.0..=MAX_NOISE_STDDEV).contains(&v) { s.noise_stddev = v } })}
            </Show>
            <Show when=move || experiment() == Experiment::Dropout>
                {number_input("dropout rate", Signal::derive(move || settings.get().dropout_rate.to_string()), "0".into(), MAX_DROPOUT_RATE.to_string(), "0.05",
                    |s, v| if let Ok(v) = v.parse::<f64>() { if (0.0..=MAX_DROPOUT_RATE).contains(&v) { s.dropout_rate = v } })}
            </Show>
            {number_input("seed", Signal::derive(move || settings.get().seed.to_string()), "0".into(), u64::MAX.to_string(), "1",
                |s, v| if let Ok(v) = v.parse::<u64>() { s.seed = v })}
        </div>
        <div class="buttons">
            <button class="primary" data-testid="train" disabled=move || !can_train() on:click=move |_| page.train()>"Train"</button>
            <button data-testid="pause" disabled=move || !training() on:click=move |_| page.pause_or_resume()>
                {move || if paused.get() { "Resume" } else { "Pause" }}
            </button>
            <button data-testid="stop" disabled=move || !training() on:click=move |_| page.stop()>"Stop"</button>
        </div>
    }
}
