use leptos::prelude::*;

use crate::page::use_page;

/// One row per finished epoch; also the text alternative to the charts.
#[component]
pub fn HistoryTable() -> impl IntoView {
    let figures = use_page().training.figures;
    let history = Memo::new(move |_| figures.with(|f| f.history.clone()));
    view! {
        <table class="history" data-testid="history">
            <caption>"Per-epoch results"</caption>
            <thead>
                <tr>
                    <th scope="col">"epoch"</th>
                    <th scope="col">"loss"</th>
                    <th scope="col">"rounded accuracy"</th>
                    <th scope="col">"val loss"</th>
                    <th scope="col">"val rounded accuracy"</th>
                    <th scope="col">"seconds"</th>
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
                                    <td>{format!("{:.4}", r.loss)}</td>
                                    <td>{format!("{:.4}", r.rounded_accuracy)}</td>
                                    <td>{format!("{:.4}", r.val_loss)}</td>
                                    <td>{format!("{:.4}", r.val_rounded_accuracy)}</td>
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
