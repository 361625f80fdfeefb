use leptos::prelude::*;

use crate::i18n::{t, use_i18n};
use crate::page::use_page;
use crate::text::figure;

/// One row per finished epoch; also the text alternative to the charts.
#[component]
pub fn HistoryTable() -> impl IntoView {
    let (figures, i18n) = (use_page().training.figures, use_i18n());
    let history = Memo::new(move |_| figures.with(|f| f.history.clone()));
    view! {
        <table class="history" data-testid="history">
            <caption>{t!(i18n, history.caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, history.epoch)}</th>
                    <th scope="col">{t!(i18n, history.loss)}</th>
                    <th scope="col">{t!(i18n, history.accuracy)}</th>
                    <th scope="col">{t!(i18n, history.val_loss)}</th>
                    <th scope="col">{t!(i18n, history.val_accuracy)}</th>
                    <th scope="col">{t!(i18n, history.seconds)}</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    history
                        .get()
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr>
                                    <td>{r.epoch}</td>
                                    <td>{figure(r.loss)}</td>
                                    <td>{figure(r.rounded_accuracy)}</td>
                                    <td>{figure(r.val_loss)}</td>
                                    <td>{figure(r.val_rounded_accuracy)}</td>
                                    <td>{format!("{:.1}", r.seconds)}</td>
                                </tr>
                            }
                        })
                        .collect_view()
                }}
            </tbody>
        </table>
    }
}
