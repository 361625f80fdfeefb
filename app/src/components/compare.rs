//! The four experiments side by side: test curves, final figures, parameter counts and
//! reconstructions of the same test images.

use leptos::ev;
use leptos::html::Canvas;
use leptos::prelude::*;
use model::EpochRecord;

use crate::charts::{Series, image_grid, line_chart, rgb};
use crate::page::{RECONSTRUCTIONS_SHOWN, use_page};

/// Okabe and Ito's colours, told apart with the common colour-vision deficiencies.
const EXPERIMENT_COLORS: [&str; 4] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7"];

#[component]
pub fn ComparePanel() -> impl IntoView {
    let page = use_page();
    let action = page.comparison;
    let comparison = Signal::derive(move || action.value().get());
    let comparing = action.pending();
    let can_compare = move || page.idle_with_data();
    let columns = RECONSTRUCTIONS_SHOWN;
    let resized = RwSignal::new(0u32);
    let _ = window_event_listener(ev::resize, move |_| resized.update(|n| *n += 1));
    let loss_canvas = NodeRef::<Canvas>::new();
    let accuracy_canvas = NodeRef::<Canvas>::new();
    let draw = move |canvas: NodeRef<Canvas>, label: &'static str, value: fn(&EpochRecord) -> f64| {
        resized.track();
        let (Some(canvas), Some(rows)) = (canvas.get(), comparison.get()) else { return };
        let series: Vec<Series> = rows
            .iter()
            .zip(EXPERIMENT_COLORS)
            .map(|(row, color)| Series {
                label: row.experiment.to_string(),
                points: row.history.iter().map(|r| (r.epoch as f64, value(r))).collect(),
                color: rgb(color),
                markers: true,
                faded: false,
            })
            .collect();
        let x_max = rows.iter().map(|r| r.history.len()).max().unwrap_or(1) as f64;
        request_animation_frame(move || {
            if let Err(e) = line_chart(&canvas, label, x_max, &series) {
                leptos::logging::warn!("compare chart: {e}");
            }
        });
    };
    Effect::new(move |_| draw(loss_canvas, "test loss", |r| r.val_loss));
    Effect::new(move |_| draw(accuracy_canvas, "test rounded accuracy", |r| r.val_rounded_accuracy));

    let figure = |history: &[EpochRecord], value: fn(&EpochRecord) -> f64| history.last().map(|r| format!("{:.4}", value(r))).unwrap_or_else(|| "–".into());
    view! {
        <div class="buttons">
            <button data-testid="compare" disabled=move || !can_compare() || comparing.get() on:click=move |_| { action.dispatch_local(()); }>
                {move || if comparing.get() { "Loading the four models…" } else if comparison.get().is_some() { "Compare again" } else { "Compare the four experiments" }}
            </button>
        </div>
        <Show when=move || comparison.get().is_some()>
            <div class="charts">
                <canvas node_ref=loss_canvas class="chart" data-testid="compare-loss" role="img"
                    aria-label="Test loss per epoch of the four experiments; the table below has the final figures"></canvas>
                <canvas node_ref=accuracy_canvas class="chart" data-testid="compare-accuracy" role="img"
                    aria-label="Test rounded accuracy per epoch of the four experiments; the table below has the final figures"></canvas>
            </div>
            <div class="table-scroll">
                <table class="history compare-table" data-testid="compare-table">
                    <caption>"The four experiments: the model trained here if there is one, else the pretrained one"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"experiment"</th>
                            <th scope="col">"model"</th>
                            <th scope="col">"parameters"</th>
                            <th scope="col">"epochs"</th>
                            <th scope="col">"test loss"</th>
                            <th scope="col">"rounded accuracy"</th>
                            <th scope="col">"originals over reconstructions"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || comparison.get().unwrap_or_default().into_iter().map(|row| {
                            let canvas = NodeRef::<Canvas>::new();
                            let (originals, outputs) = (row.originals.clone(), row.outputs.clone());
                            Effect::new(move |_| {
                                if let Some(canvas) = canvas.get() {
                                    let _ = image_grid(&canvas, &[&originals, &outputs], columns);
                                }
                            });
                            view! {
                                <tr>
                                    <th scope="row">{row.experiment.name()}</th>
                                    <td>{if row.trained_here { "trained here" } else { "pretrained" }}</td>
                                    <td>{group_thousands(row.parameters)}</td>
                                    <td>{row.history.len()}</td>
                                    <td>{figure(&row.history, |r| r.val_loss)}</td>
                                    <td>{figure(&row.history, |r| r.val_rounded_accuracy)}</td>
                                    <td><canvas node_ref=canvas class="images compare-images" role="img"
                                        aria-label=format!("{} reconstructions of the same test images", row.experiment)></canvas></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </Show>
    }
}

/// 222384 as "222,384".
fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
