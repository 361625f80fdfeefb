//! The four experiments side by side: test curves, final figures, parameter counts and
//! reconstructions of the same test images.

use leptos::ev;
use leptos::html::Canvas;
use leptos::prelude::*;
use protocol::EpochRecord;

use crate::browser::NextPaint;
use crate::charts::{Axes, Series, image_grid, line_chart, rgb};
use crate::i18n::{Locale, t, t_string, td_string, use_i18n};
use crate::page::{RECONSTRUCTIONS_SHOWN, use_page};
use crate::text::{experiment_name, figure, group_thousands, percent};

/// Okabe and Ito's colours, told apart with the common colour-vision deficiencies.
const EXPERIMENT_COLORS: [&str; 4] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7"];

#[component]
pub fn ComparePanel() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let action = page.comparison;
    let comparison = Signal::derive(move || action.value().get());
    let comparing = action.pending();
    let can_compare = move || page.idle();
    let columns = RECONSTRUCTIONS_SHOWN;
    let resized = RwSignal::new(0u32);
    let _ = window_event_listener(ev::resize, move |_| resized.update(|n| *n += 1));
    let loss_canvas = NodeRef::<Canvas>::new();
    let accuracy_canvas = NodeRef::<Canvas>::new();
    let draw = move |next: &NextPaint, canvas: NodeRef<Canvas>, y: fn(Locale) -> &'static str, value: fn(&EpochRecord) -> f64| {
        resized.track();
        let (Some(canvas), Some(rows)) = (canvas.get(), comparison.get()) else { return };
        let locale = i18n.get_locale();
        let series: Vec<Series> = rows
            .iter()
            .zip(EXPERIMENT_COLORS)
            .map(|(row, color)| Series {
                label: experiment_name(locale, row.experiment),
                points: row.history.iter().map(|r| (r.epoch as f64, value(r))).collect(),
                color: rgb(color),
                markers: true,
                faded: false,
            })
            .collect();
        let x_max = rows.iter().map(|r| r.history.len()).max().unwrap_or(1) as f64;
        next.draw(move || {
            let axes = Axes { x: td_string!(locale, curves.epoch), y: y(locale) };
            if let Err(e) = line_chart(&canvas, axes, x_max, &series) {
                leptos::logging::warn!("compare chart: {e}");
            }
        });
    };
    let (loss_next, accuracy_next) = (NextPaint::default(), NextPaint::default());
    Effect::new(move |_| draw(&loss_next, loss_canvas, |l| td_string!(l, compare.loss), |r| r.val_loss));
    Effect::new(move |_| draw(&accuracy_next, accuracy_canvas, |l| td_string!(l, compare.accuracy), |r| r.val_rounded_accuracy));

    let last = |history: &[EpochRecord], value: fn(&EpochRecord) -> f64| history.last().map(|r| figure(value(r))).unwrap_or_else(|| "–".into());
    view! {
        <div class="buttons">
            <button data-testid="compare" disabled=move || !can_compare() || comparing.get() on:click=move |_| { action.dispatch_local(()); }>
                {move || if comparing.get() {
                    t_string!(i18n, compare.loading)
                } else if comparison.get().is_some() {
                    t_string!(i18n, compare.again)
                } else {
                    t_string!(i18n, compare.start)
                }}
            </button>
        </div>
        <Show when=move || comparison.get().is_some()>
            <div class="charts">
                <canvas node_ref=loss_canvas class="chart" data-testid="compare-loss" role="img"
                    aria-label=move || t_string!(i18n, compare.loss_alt)></canvas>
                <canvas node_ref=accuracy_canvas class="chart" data-testid="compare-accuracy" role="img"
                    aria-label=move || t_string!(i18n, compare.accuracy_alt)></canvas>
            </div>
            <div class="table-scroll">
                <table class="history compare-table" data-testid="compare-table">
                    <caption>{t!(i18n, compare.caption)}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, compare.experiment)}</th>
                            <th scope="col">{t!(i18n, compare.model)}</th>
                            <th scope="col">{t!(i18n, compare.parameters)}</th>
                            <th scope="col">{t!(i18n, compare.epochs)}</th>
                            <th scope="col">{t!(i18n, compare.test_loss)}</th>
                            <th scope="col">{t!(i18n, compare.test_accuracy)}</th>
                            <th scope="col">{t!(i18n, knn.column)}</th>
                            <th scope="col">{t!(i18n, compare.images)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || comparison.get().unwrap_or_default().into_iter().map(|row| {
                            let canvas = NodeRef::<Canvas>::new();
                            let (originals, outputs) = (row.originals.clone(), row.outputs.clone());
                            let code_accuracy = percent(row.code_accuracy);
                            let knn = move || match page.tools.pixels.get().flatten() {
                                Some(p) => format!("{code_accuracy} / {}", percent(p.accuracy)),
                                None => code_accuracy.clone(),
                            };
                            Effect::new(move |_| {
                                if let Some(canvas) = canvas.get() {
                                    let _ = image_grid(&canvas, &[&originals, &outputs], columns);
                                }
                            });
                            view! {
                                <tr>
                                    <th scope="row">{move || experiment_name(i18n.get_locale(), row.experiment)}</th>
                                    <td>{move || if row.trained_here { t_string!(i18n, compare.trained_here) } else { t_string!(i18n, compare.pretrained) }}</td>
                                    <td>{group_thousands(row.parameters)}</td>
                                    <td>{row.history.len()}</td>
                                    <td>{last(&row.history, |r| r.val_loss)}</td>
                                    <td>{last(&row.history, |r| r.val_rounded_accuracy)}</td>
                                    <td>{knn}</td>
                                    <td><canvas node_ref=canvas class="images compare-images" role="img"
                                        aria-label=move || td_string!(i18n.get_locale(), compare.images_alt, experiment = experiment_name(i18n.get_locale(), row.experiment))></canvas></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </Show>
    }
}
