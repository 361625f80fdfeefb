use leptos::ev;
use leptos::html::Canvas;
use leptos::prelude::*;
use protocol::EpochRecord;
use plotters::style::RGBColor;

use crate::browser::NextPaint;
use crate::charts::{Axes, Series, line_chart};
use crate::figures::LivePoint;
use crate::i18n::{Locale, t, t_string, td_string, use_i18n};
use crate::page::use_page;
use crate::text::experiment_name;

// tab10, as in the chapter's matplotlib plots.
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const TEST: RGBColor = RGBColor(255, 127, 14);
const OTHERS: [RGBColor; 4] = [RGBColor(44, 160, 44), RGBColor(214, 39, 40), RGBColor(148, 103, 189), RGBColor(140, 86, 75)];

#[component]
pub fn Curves() -> impl IntoView {
    let (page, i18n) = (use_page(), use_i18n());
    let figures = page.training.figures;
    let history = Memo::new(move |_| figures.with(|f| f.history.clone()));
    let live = Memo::new(move |_| figures.with(|f| f.live.clone()));
    let finished = Memo::new(move |_| page.training.finished_runs());
    let epochs = Memo::new(move |_| page.settings.with(|s| s.epochs));
    let experiment = Memo::new(move |_| page.settings.with(|s| s.experiment));
    let compare = RwSignal::new(true);
    let resized = RwSignal::new(0u32);
    let _ = window_event_listener(ev::resize, move |_| resized.update(|n| *n += 1));
    let loss_canvas = NodeRef::<Canvas>::new();
    let accuracy_canvas = NodeRef::<Canvas>::new();

    // The chapter's viz_history: training and test per epoch; and while an epoch trains, the
    // running training mean. Each chart draws in a task of its own after the next paint, so two
    // redraws never make one long task.
    let draw = move |next: &NextPaint, canvas: NodeRef<Canvas>, y: fn(Locale) -> &'static str, train: fn(&LivePoint) -> f64, test: fn(&EpochRecord) -> f64| {
        resized.track();
        let Some(canvas) = canvas.get() else { return };
        let (history, locale) = (history.get(), i18n.get_locale());
        let mut series = Vec::new();
        if compare.get() {
            let current = experiment.get();
            for (run, color) in finished.get().iter().filter(|r| r.experiment != current).zip(OTHERS) {
                series.push(Series {
                    label: td_string!(locale, curves.other_test, experiment = experiment_name(locale, run.experiment)).to_string(),
                    points: run.history.iter().map(|r| (r.epoch as f64, test(r))).collect(),
                    color,
                    markers: false,
                    faded: true,
                });
            }
        }
        series.push(Series {
            label: td_string!(locale, curves.running).to_string(),
            points: live.get().iter().map(|p| (p.epoch, train(p))).collect(),
            color: TRAIN,
            markers: false,
            faded: true,
        });
        series.push(Series {
            label: td_string!(locale, curves.training).to_string(),
            points: history.iter().map(|r| (r.epoch as f64, train(&LivePoint::of(r)))).collect(),
            color: TRAIN,
            markers: true,
            faded: false,
        });
        series.push(Series {
            label: td_string!(locale, curves.test).to_string(),
            points: history.iter().map(|r| (r.epoch as f64, test(r))).collect(),
            color: TEST,
            markers: true,
            faded: false,
        });
        let x_max = epochs.get().max(history.len()) as f64;
        next.draw(move || {
            let axes = Axes { x: td_string!(locale, curves.epoch), y: y(locale) };
            if let Err(e) = line_chart(&canvas, axes, x_max, &series) {
                leptos::logging::warn!("chart: {e}");
            }
        });
    };
    let (loss_next, accuracy_next) = (NextPaint::default(), NextPaint::default());
    Effect::new(move |_| draw(&loss_next, loss_canvas, |l| td_string!(l, curves.loss), |p| p.loss, |r| r.val_loss));
    Effect::new(move |_| draw(&accuracy_next, accuracy_canvas, |l| td_string!(l, curves.accuracy), |p| p.rounded_accuracy, |r| r.val_rounded_accuracy));

    view! {
        <div class="charts">
            <canvas node_ref=loss_canvas class="chart" data-testid="loss-chart" role="img"
                aria-label=move || t_string!(i18n, curves.loss_alt)></canvas>
            <canvas node_ref=accuracy_canvas class="chart" data-testid="accuracy-chart" role="img"
                aria-label=move || t_string!(i18n, curves.accuracy_alt)></canvas>
        </div>
        <label class="inline">
            <input type="checkbox" prop:checked=move || compare.get()
                on:change=move |ev| compare.set(event_target_checked(&ev)) />
            {t!(i18n, curves.overlay)}
        </label>
    }
}
