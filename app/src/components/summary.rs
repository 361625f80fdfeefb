use leptos::prelude::*;
use protocol::{Activation, LayerKind, LayerSummary};

use crate::i18n::{Locale, t, td_string, use_i18n};
use crate::page::use_page;
use crate::text::{experiment_name, group_thousands};

/// The settings' model layer by layer, as Keras' `model.summary()` prints it: each layer, its
/// output shape, its parameters (a tied layer's bias, plus the encoder kernel it shares), and
/// the total.
#[component]
pub fn ModelSummary() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let shape = Signal::derive(move || page.settings.with(|s| s.shape()));
    let experiment = Memo::new(move |_| page.settings.with(|s| s.experiment));
    view! {
        <details class="summary" data-testid="summary">
            <summary>{t!(i18n, page.summary)}</summary>
            <div class="table-scroll">
                <table class="history">
                    <caption>{move || td_string!(i18n.get_locale(), summary.caption, experiment = experiment_name(i18n.get_locale(), experiment.get()))}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, summary.layer)}</th>
                            <th scope="col">{t!(i18n, summary.output)}</th>
                            <th scope="col">{t!(i18n, summary.parameters)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            let locale = i18n.get_locale();
                            shape.get().summary().into_iter().map(|layer| view! {
                                <tr>
                                    <th scope="row"><code>{layer.name.clone()}</code> " " {kind(locale, &layer)}</th>
                                    <td><code>{format!("(None, {})", layer.output)}</code></td>
                                    <td>{parameters(locale, &layer)}</td>
                                </tr>
                            }).collect_view()
                        }}
                    </tbody>
                    <tfoot>
                        <tr>
                            <th scope="row" colspan="2">{t!(i18n, summary.total)}</th>
                            <td data-testid="summary-total">{move || group_thousands(shape.get().total_parameters())}</td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        </details>
    }
}

fn kind(locale: Locale, layer: &LayerSummary) -> String {
    let activation = |a: Activation| match a {
        Activation::Relu => "ReLU",
        Activation::Sigmoid => "sigmoid",
    };
    match layer.kind {
        LayerKind::Input => td_string!(locale, summary.input).to_string(),
        LayerKind::Dense { activation: a } => td_string!(locale, summary.dense, activation = activation(a)).to_string(),
        LayerKind::DenseTranspose { activation: a } => td_string!(locale, summary.dense_transpose, activation = activation(a)).to_string(),
        LayerKind::GaussianNoise { stddev } => {
            format!("{} ({})", td_string!(locale, summary.noise, stddev = stddev), td_string!(locale, summary.training_only))
        }
        LayerKind::Dropout { rate } => format!("{} ({})", td_string!(locale, summary.dropout, rate = rate), td_string!(locale, summary.training_only)),
    }
}

fn parameters(locale: Locale, layer: &LayerSummary) -> String {
    let own = group_thousands(layer.parameters);
    match &layer.shares_kernel_with {
        Some(encoder) => td_string!(locale, summary.shares, own = own, layer = encoder).to_string(),
        None => own,
    }
}
