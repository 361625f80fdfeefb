//! What the charts and the status line show of a run, built from the run's events. Plain data:
//! no signals, no browser, unit-tested natively.

use protocol::messages::RunEvent;
use protocol::{EpochRecord, Experiment, Progress};
use crate::i18n::{Locale, td_string};
use crate::state::Phase;
use crate::text::figure;

/// A running training figure part way through an epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LivePoint {
    /// Epochs done, fractional: 1.5 is half-way through the second epoch.
    pub epoch: f64,
    pub loss: f64,
    pub rounded_accuracy: f64,
}

impl LivePoint {
    /// An epoch's training figures (Keras' running means over the whole epoch), at its end.
    pub fn of(record: &EpochRecord) -> Self {
        Self { epoch: record.epoch as f64, loss: record.loss, rounded_accuracy: record.rounded_accuracy }
    }
}

/// A finished run, kept to overlay on the next ones.
#[derive(Clone, Debug, PartialEq)]
pub struct FinishedRun {
    pub experiment: Experiment,
    pub history: Vec<EpochRecord>,
}

/// Steps between two points of the live curve: a point every ~50 steps keeps redraws cheap.
const LIVE_POINT_EVERY: usize = 50;

/// The figures of the run being trained (or of the model shown).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFigures {
    /// Finished epochs.
    pub history: Vec<EpochRecord>,
    /// Running means within epochs, thinned.
    pub live: Vec<LivePoint>,
    /// The last report, for the status line.
    pub progress: Option<Progress>,
    /// Test images validated so far and in all, while validating.
    pub validating: Option<(usize, usize)>,
}

impl RunFigures {
    /// The figures of a model trained elsewhere: its history only.
    pub fn of_history(history: Vec<EpochRecord>) -> Self {
        Self { history, ..Self::default() }
    }

    /// Takes in one event of a run (whose progress reports may come at any steps).
    pub fn apply(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Progress(p) => {
                // Steps done in this epoch at the last live point (0 at the epoch's start).
                let last = self.live.last().filter(|l| l.epoch > (p.epoch - 1) as f64).map_or(0.0, |l| l.epoch - (p.epoch - 1) as f64);
                let at = p.step as f64 / p.steps as f64;
                if (at - last) * p.steps as f64 >= LIVE_POINT_EVERY as f64 || p.step == p.steps {
                    self.live.push(LivePoint { epoch: (p.epoch - 1) as f64 + at, loss: p.loss, rounded_accuracy: p.rounded_accuracy });
                }
                self.progress = Some(p.clone());
            }
            RunEvent::Validating { done, total } => self.validating = Some((*done, *total)),
            RunEvent::Epoch(record) => {
                self.validating = None;
                self.history.push(record.clone());
            }
            // The run goes on elsewhere from `kept` finished epochs: what came after goes.
            RunEvent::MovedToCpu { kept, .. } => {
                self.history.truncate(*kept);
                self.live.retain(|p| p.epoch <= *kept as f64);
                self.validating = None;
            }
            RunEvent::Started | RunEvent::Reconstructions(_) => {}
        }
    }
}

/// The one-line status of the page.
pub fn status_line(locale: Locale, phase: Phase, paused: bool, figures: &RunFigures, epochs: usize) -> String {
    let paused = if paused { td_string!(locale, status.paused) } else { "" };
    match (phase, &figures.progress) {
        (Phase::Training, Some(p)) => match figures.validating {
            Some((done, total)) => {
                td_string!(locale, status.validating, paused = paused, epoch = p.epoch, done = done, total = total).to_string()
            }
            None => td_string!(
                locale,
                status.progress,
                paused = paused,
                epoch = p.epoch,
                epochs = epochs,
                step = p.step,
                steps = p.steps,
                loss = figure(p.loss),
                accuracy = figure(p.rounded_accuracy)
            )
            .to_string(),
        },
        (Phase::Training, None) => td_string!(locale, status.run_starting).to_string(),
        (Phase::Loading, _) => td_string!(locale, status.loading).to_string(),
        (Phase::Ready, _) => td_string!(locale, status.ready).to_string(),
        (Phase::Done, _) => match figures.history.len() {
            1 => td_string!(locale, status.done_one).to_string(),
            n => td_string!(locale, status.done, n = n).to_string(),
        },
        (Phase::Error, _) => td_string!(locale, status.error).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Message;
    use protocol::messages::RunError;

    fn status_line(phase: Phase, paused: bool, figures: &RunFigures, epochs: usize) -> String {
        super::status_line(Locale::en, phase, paused, figures, epochs)
    }

    fn failure_message(error: &RunError, epochs_done: usize) -> String {
        Message::RunFailed { error: error.clone(), epochs_done }.text(Locale::en)
    }

    fn moved_to_cpu_message(why: &str, kept: usize) -> String {
        Message::MovedToCpu { why: why.into(), kept }.text(Locale::en)
    }

    fn progress(epoch: usize, step: usize, steps: usize) -> Progress {
        Progress { epoch, step, steps, loss: 0.25, rounded_accuracy: 0.875 }
    }

    fn record(epoch: usize) -> EpochRecord {
        EpochRecord { epoch, loss: 0.3, rounded_accuracy: 0.9, val_loss: 0.31, val_rounded_accuracy: 0.89, seconds: 1.5 }
    }

    fn run(events: &[RunEvent]) -> RunFigures {
        let mut figures = RunFigures::default();
        for event in events {
            figures.apply(event);
        }
        figures
    }

    #[test]
    fn live_points_are_thinned_to_about_one_per_fifty_steps_and_each_epochs_end() {
        let events: Vec<RunEvent> = (1..=100).filter(|s| s % 4 == 0).map(|s| RunEvent::Progress(progress(1, s, 100))).collect();
        let figures = run(&events);
        let epochs: Vec<f64> = figures.live.iter().map(|p| p.epoch).collect();
        assert_eq!(epochs, vec![0.52, 1.0]);
        assert_eq!(figures.progress, Some(progress(1, 100, 100)));
    }

    #[test]
    fn reports_at_any_steps_keep_live_points_fifty_steps_apart() {
        // The engine sends at most ten reports a second, at whatever steps they fall on.
        let events: Vec<RunEvent> = [7, 33, 61, 90, 100, 20, 75].iter().enumerate()
            .map(|(i, &s)| RunEvent::Progress(progress(if i < 5 { 1 } else { 2 }, s, 100)))
            .collect();
        let epochs: Vec<f64> = run(&events).live.iter().map(|p| p.epoch).collect();
        assert_eq!(epochs, vec![0.61, 1.0, 1.75]);
    }

    #[test]
    fn an_epoch_ends_validation_and_joins_the_history() {
        let figures = run(&[RunEvent::Validating { done: 1000, total: 10_000 }, RunEvent::Epoch(record(1))]);
        assert_eq!(figures.validating, None);
        assert_eq!(figures.history, vec![record(1)]);
    }

    #[test]
    fn moving_to_the_cpu_drops_what_came_after_the_kept_epochs() {
        let mut events = Vec::new();
        for epoch in 1..=3 {
            events.push(RunEvent::Progress(progress(epoch, 50, 50)));
            events.push(RunEvent::Epoch(record(epoch)));
        }
        events.push(RunEvent::Progress(progress(4, 25, 50)));
        events.push(RunEvent::MovedToCpu { kept: 2, why: "device lost".into() });
        let figures = run(&events);
        assert_eq!(figures.history, vec![record(1), record(2)]);
        assert!(figures.live.iter().all(|p| p.epoch <= 2.0), "{:?}", figures.live);
        assert_eq!(figures.live.len(), 2);
    }

    #[test]
    fn the_status_line_names_each_phase() {
        let training = run(&[RunEvent::Progress(progress(2, 10, 50))]);
        assert_eq!(
            status_line(Phase::Training, false, &training, 10),
            "Epoch 2 of 10, step 10 of 50: running loss 0.2500, rounded accuracy 0.8750"
        );
        assert_eq!(
            status_line(Phase::Training, true, &training, 10),
            "Paused. Epoch 2 of 10, step 10 of 50: running loss 0.2500, rounded accuracy 0.8750"
        );
        let validating = run(&[RunEvent::Progress(progress(2, 50, 50)), RunEvent::Validating { done: 3000, total: 10_000 }]);
        assert_eq!(status_line(Phase::Training, false, &validating, 10), "Epoch 2: validating on the test images, 3000 of 10000");
        assert_eq!(status_line(Phase::Training, false, &RunFigures::default(), 10), "Starting…");
        assert_eq!(status_line(Phase::Done, false, &RunFigures::of_history(vec![record(1)]), 10), "Done: 1 epoch trained.");
        assert_eq!(status_line(Phase::Done, false, &RunFigures::of_history(vec![record(1), record(2)]), 10), "Done: 2 epochs trained.");
        assert_eq!(status_line(Phase::Error, false, &training, 10), "Stopped by an error (see below).");
        assert_eq!(status_line(Phase::Ready, false, &RunFigures::default(), 10), "Ready: pick an experiment and press Train.");
    }

    #[test]
    fn failure_messages_say_what_stays_and_what_to_do() {
        let lost = failure_message(&RunError::Device("lost".into()), 3);
        assert!(lost.contains("The GPU stopped working") && lost.contains("backend=cpu"), "{lost}");
        let diverged = RunError::Diverged { epoch: 1, step: 7, loss: 1e24 };
        assert!(failure_message(&diverged, 0).contains("no model to show"));
        assert!(failure_message(&diverged, 2).contains("stays on screen"));
        assert_eq!(moved_to_cpu_message("lost", 0), "WebGPU failed during training (lost); training went on on the CPU from scratch");
        assert!(moved_to_cpu_message("lost", 2).ends_with("from the weights after epoch 2"));
    }
}

#[cfg(test)]
mod in_chinese {
    use super::*;

    #[test]
    fn the_status_line_reads_in_chinese() {
        let progress = Progress { epoch: 2, step: 10, steps: 50, loss: 0.25, rounded_accuracy: 0.875 };
        let figures = RunFigures { progress: Some(progress), ..RunFigures::default() };
        assert_eq!(
            status_line(Locale::zh, Phase::Training, true, &figures, 10),
            "已暂停。第 2 / 10 轮，第 10 / 50 步：平均损失 0.2500，舍入准确率 0.8750"
        );
        assert_eq!(status_line(Locale::zh, Phase::Done, false, &RunFigures::default(), 10), "完成：已训练 0 轮。");
    }
}
