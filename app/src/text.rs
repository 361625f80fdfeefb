//! What the page says, in the visitor's language. Fixed words come straight from the catalogues
//! (`locales/*.json`, compiled in as [`crate::i18n`]); this module holds what takes code: names
//! of experiments and classes, figures, model errors, and the [`Message`]s kept in the page's
//! state, which are rendered again when the language changes. Pure: tested natively.

use protocol::Experiment;
use protocol::data::CLASS_NAMES;
use protocol::messages::{BackendWhy, DataPart, RunError};

use crate::i18n::{Locale, td_string};
use crate::settings::{Problem, Warning};

/// The locales in the switcher's order, with their own names.
pub const LANGUAGES: [(Locale, &str); 2] = [(Locale::zh, "简体中文"), (Locale::en, "English")];

/// The experiment's name as the chapter's readers know it.
pub fn experiment_name(locale: Locale, experiment: Experiment) -> String {
    match experiment {
        Experiment::Stacked => td_string!(locale, experiments.stacked),
        Experiment::Tied => td_string!(locale, experiments.tied),
        Experiment::Denoising => td_string!(locale, experiments.denoising),
        Experiment::Dropout => td_string!(locale, experiments.dropout),
    }
    .to_string()
}

/// What the experiment changes, and why, in two lines.
pub fn experiment_explanation(locale: Locale, experiment: Experiment) -> String {
    match experiment {
        Experiment::Stacked => td_string!(locale, experiments.stacked_explain),
        Experiment::Tied => td_string!(locale, experiments.tied_explain),
        Experiment::Denoising => td_string!(locale, experiments.denoising_explain),
        Experiment::Dropout => td_string!(locale, experiments.dropout_explain),
    }
    .to_string()
}

/// The Fashion-MNIST class of `label` (0 to 9, in the dataset's order: [`CLASS_NAMES`]).
pub fn class_name(locale: Locale, label: u8) -> String {
    match usize::from(label) % CLASS_NAMES.len() {
        0 => td_string!(locale, classes.tshirt),
        1 => td_string!(locale, classes.trouser),
        2 => td_string!(locale, classes.pullover),
        3 => td_string!(locale, classes.dress),
        4 => td_string!(locale, classes.coat),
        5 => td_string!(locale, classes.sandal),
        6 => td_string!(locale, classes.shirt),
        7 => td_string!(locale, classes.sneaker),
        8 => td_string!(locale, classes.bag),
        _ => td_string!(locale, classes.boot),
    }
    .to_string()
}

/// A loss or accuracy as the tables show it: four decimals, or a mantissa and an exponent
/// when four decimals would not read (a diverged loss is `9.9e23`, not 24 digits).
pub fn figure(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && magnitude != 0.0 && !(1e-3..1e6).contains(&magnitude) {
        format!("{value:.1e}")
    } else {
        format!("{value:.4}")
    }
}

/// 222384 as "222,384" (both languages group digits in threes).
pub fn group_thousands(n: usize) -> String {
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

/// A share as a percentage with one decimal: "81.3%".
pub fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

/// How many of some test images are of each class, most frequent first: "Sneaker (7),
/// Sandal (3)".
#[derive(Clone, Debug, PartialEq)]
pub struct ClassCounts(pub Vec<(u8, usize)>);

impl ClassCounts {
    /// The classes of test images `indices` (those that exist), given every test image's label.
    pub fn of_images(indices: &[usize], labels: &[u8]) -> Self {
        Self::of(indices.iter().filter_map(|&i| labels.get(i).copied()))
    }

    pub fn of(labels: impl IntoIterator<Item = u8>) -> Self {
        let mut counts = [0usize; 10];
        labels.into_iter().for_each(|label| counts[usize::from(label) % 10] += 1);
        let mut classes: Vec<(u8, usize)> = (0u8..).zip(counts).filter(|&(_, n)| n > 0).collect();
        classes.sort_by(|a, b| b.1.cmp(&a.1));
        Self(classes)
    }

    pub fn text(&self, locale: Locale) -> String {
        let (each, separator): (fn(String, usize) -> String, &str) = match locale {
            Locale::en => (|name, n| format!("{name} ({n})"), ", "),
            Locale::zh => (|name, n| format!("{name}（{n}）"), "、"),
        };
        self.0.iter().map(|&(label, n)| each(class_name(locale, label), n)).collect::<Vec<_>>().join(separator)
    }
}

/// A URL parameter the page could not use.
pub fn warning(locale: Locale, warning: &Warning) -> String {
    let why = match &warning.problem {
        Problem::Experiment => {
            td_string!(locale, messages.expected_experiment, names = names(Experiment::ALL.iter().map(|e| e.name()))).to_string()
        }
        Problem::WholeNumber { min, max } => td_string!(locale, messages.expected_whole, min = *min, max = *max).to_string(),
        Problem::AtLeast { min } => td_string!(locale, messages.expected_at_least, min = *min).to_string(),
        Problem::Number { min, max } => td_string!(locale, messages.expected_number, min = *min, max = *max).to_string(),
        Problem::Above { min, max } => td_string!(locale, messages.expected_above, min = *min, max = *max).to_string(),
        Problem::Seed => td_string!(locale, messages.expected_seed).to_string(),
        Problem::OneOf(options) => td_string!(locale, messages.expected_one_of, names = names(options.iter().copied())).to_string(),
        Problem::Panels { unknown, known } => {
            td_string!(locale, messages.expected_panels, name = format!("{unknown:?}"), names = names(known.iter().copied())).to_string()
        }
        Problem::Images { max } => td_string!(locale, messages.expected_images, max = *max).to_string(),
    };
    let value = format!("{:?}", warning.value);
    td_string!(locale, messages.url_ignored, key = &warning.key, value = value, why = why).to_string()
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// Something the page tells the visitor and keeps on screen (a notice, an error, the note on
/// the shown model), kept as what happened so it reads in whatever language is chosen later.
/// `why` fields carry what the browser or a file said, which stays as it was said.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    UrlIgnored(Warning),
    LinkCopied { href: String },
    SettingsRejected { why: String },
    TrainingFresh(Experiment),
    TrainingFromTied { experiment: Experiment, source: String },
    NoTiedModel,
    TrainedHere { experiment: Experiment, epochs: usize, seed: u64, from_tied: Option<String> },
    Pretrained { experiment: Experiment, epochs: usize, seed: u64, source: String },
    NoPretrained { experiment: Experiment, why: String },
    Loaded { experiment: Experiment, name: String },
    Unreadable { experiment: Experiment, name: String, why: String },
    /// A run ended with an error after `epochs_done` finished epochs.
    RunFailed { error: RunError, epochs_done: usize },
    MovedToCpu { why: String, kept: usize },
    ComparisonLeavesOut { experiment: Experiment, why: String },
    SaveWeightsFailed { why: String },
    SaveHistoryFailed { why: String },
    ReconstructFailed { why: String },
    EncodeFailed { why: String },
    LookFailed { index: usize, why: String },
    DrawingFailed { why: String },
    CorruptFailed { index: usize, why: String },
    WalkFailed { from: usize, to: usize, why: String },
    MapFailed { why: String },
    LessonsFailed { why: String },
    /// The engine's worker failed (its files, a crash); the next request starts a new one.
    EngineFailed { why: String },
    /// Why training runs where it does (the backend note).
    Backend(BackendWhy),
    /// A message that stands alone as a sentence (in the notices), with its full stop.
    Sentence(Box<Message>),
}

/// Why a run stopped early, in the language asked for (the model crate's own texts are
/// English, for the CLI).
fn run_error_text(error: &RunError, locale: Locale) -> String {
    match error {
        RunError::Stopped => td_string!(locale, errors.stopped).to_string(),
        RunError::NoData(part) => {
            let which = match (part, locale) {
                (DataPart::Test, Locale::zh) => "测试",
                (DataPart::Training, Locale::zh) => "训练",
                (DataPart::Test, Locale::en) => "test",
                (DataPart::Training, Locale::en) => "training",
            };
            td_string!(locale, errors.no_data, which = which).to_string()
        }
        RunError::Diverged { epoch, step, loss } => {
            td_string!(locale, errors.diverged, loss = figure(*loss), epoch = *epoch, step = *step).to_string()
        }
        RunError::Device(why) => td_string!(locale, errors.device, why = why).to_string(),
        // Settings and weights errors name fields and shapes: kept as the model crate says them.
        RunError::Refused(text) | RunError::Other(text) => text.clone(),
    }
}

/// Why training runs where it does, in the language asked for.
fn backend_text(why: &BackendWhy, locale: Locale) -> String {
    match why {
        BackendWhy::StartFailed { why } => td_string!(locale, backend.start_failed, why = why).to_string(),
        BackendWhy::Timed { batch, gpu_ms, cpu_ms, adapter } => {
            let (gpu, cpu) = (format!("{gpu_ms:.1}"), format!("{cpu_ms:.1}"));
            if gpu_ms <= cpu_ms {
                td_string!(locale, backend.timed, batch = *batch, gpu = gpu, adapter = adapter, cpu = cpu).to_string()
            } else {
                td_string!(locale, backend.timed_cpu, batch = *batch, gpu = gpu, adapter = adapter, cpu = cpu).to_string()
            }
        }
        BackendWhy::TestFailed { why } => td_string!(locale, backend.test_failed, why = why).to_string(),
        BackendWhy::NoWebGpu => td_string!(locale, backend.no_webgpu).to_string(),
        BackendWhy::ProbeFailed { why } => td_string!(locale, backend.probe_failed, why = why).to_string(),
        BackendWhy::ChosenCpu => td_string!(locale, backend.chosen_cpu).to_string(),
        BackendWhy::ChosenWebGpu { adapter } => td_string!(locale, backend.chosen_webgpu, adapter = adapter).to_string(),
        BackendWhy::SoftwareAdapter { adapter } => td_string!(locale, backend.software, adapter = adapter).to_string(),
        BackendWhy::StaysOnCpu(why) => td_string!(locale, backend.stays_on_cpu, why = backend_text(why, locale)).to_string(),
        BackendWhy::MovedToCpu { why, kept } => Message::MovedToCpu { why: why.clone(), kept: *kept }.text(locale),
    }
}

impl Message {
    pub fn text(&self, locale: Locale) -> String {
        let name = |e: &Experiment| experiment_name(locale, *e);
        match self {
            Self::UrlIgnored(w) => warning(locale, w),
            Self::LinkCopied { href } => td_string!(locale, messages.link_copied, href = href).to_string(),
            Self::SettingsRejected { why } => td_string!(locale, messages.settings_rejected, why = why).to_string(),
            Self::TrainingFresh(e) => td_string!(locale, messages.training_fresh, experiment = name(e)).to_string(),
            Self::TrainingFromTied { experiment, source } => {
                td_string!(locale, messages.training_from_tied, experiment = name(experiment), source = source).to_string()
            }
            Self::NoTiedModel => td_string!(locale, messages.no_tied_model).to_string(),
            Self::TrainedHere { experiment, epochs, seed, from_tied: None } => {
                td_string!(locale, messages.trained_here, experiment = name(experiment), epochs = *epochs, seed = *seed).to_string()
            }
            Self::TrainedHere { experiment, epochs, seed, from_tied: Some(source) } => td_string!(
                locale,
                messages.trained_here_from_tied,
                experiment = name(experiment),
                epochs = *epochs,
                seed = *seed,
                source = source
            )
            .to_string(),
            Self::Pretrained { experiment, epochs, seed, source } => td_string!(
                locale,
                messages.pretrained,
                experiment = name(experiment),
                epochs = *epochs,
                seed = *seed,
                source = source
            )
            .to_string(),
            Self::NoPretrained { experiment, why } => {
                td_string!(locale, messages.no_pretrained, experiment = name(experiment), why = why).to_string()
            }
            Self::Loaded { experiment, name: file } => {
                td_string!(locale, messages.loaded, experiment = name(experiment), name = file).to_string()
            }
            Self::Unreadable { experiment, name: file, why } => {
                td_string!(locale, messages.unreadable, experiment = name(experiment), name = file, why = why).to_string()
            }
            Self::RunFailed { error, epochs_done } => {
                let why = run_error_text(error, locale);
                match (error, epochs_done) {
                    // The GPU's own words, inside "The GPU stopped working (…)".
                    (RunError::Device(lost), _) => td_string!(locale, messages.gpu_failed, why = lost).to_string(),
                    (_, 0) => td_string!(locale, messages.stopped_nothing, why = why).to_string(),
                    _ => td_string!(locale, messages.stopped_kept, why = why).to_string(),
                }
            }
            Self::MovedToCpu { why, kept: 0 } => td_string!(locale, messages.moved_to_cpu, why = why).to_string(),
            Self::MovedToCpu { why, kept } => td_string!(locale, messages.moved_to_cpu_kept, why = why, kept = *kept).to_string(),
            Self::ComparisonLeavesOut { experiment, why } => {
                td_string!(locale, messages.comparison_leaves_out, experiment = name(experiment), why = why).to_string()
            }
            Self::SaveWeightsFailed { why } => td_string!(locale, messages.save_weights_failed, why = why).to_string(),
            Self::SaveHistoryFailed { why } => td_string!(locale, messages.save_history_failed, why = why).to_string(),
            Self::ReconstructFailed { why } => td_string!(locale, messages.reconstruct_failed, why = why).to_string(),
            Self::EncodeFailed { why } => td_string!(locale, messages.encode_failed, why = why).to_string(),
            Self::LookFailed { index, why } => td_string!(locale, messages.look_failed, index = *index, why = why).to_string(),
            Self::DrawingFailed { why } => td_string!(locale, messages.drawing_failed, why = why).to_string(),
            Self::CorruptFailed { index, why } => td_string!(locale, messages.corrupt_failed, index = *index, why = why).to_string(),
            Self::WalkFailed { from, to, why } => td_string!(locale, messages.walk_failed, from = *from, to = *to, why = why).to_string(),
            Self::MapFailed { why } => td_string!(locale, messages.map_failed, why = why).to_string(),
            Self::LessonsFailed { why } => td_string!(locale, messages.lessons_failed, why = why).to_string(),
            Self::EngineFailed { why } => td_string!(locale, messages.engine_failed, why = why).to_string(),
            Self::Backend(why) => backend_text(why, locale),
            Self::Sentence(message) => {
                let full_stop = match locale {
                    Locale::en => ".",
                    Locale::zh => "。",
                };
                message.text(locale) + full_stop
            }
        }
    }

    /// Messages of one kind replace each other in the notices (a second copied link replaces
    /// the first).
    pub fn replaces(&self, other: &Message) -> bool {
        matches!((self, other), (Self::LinkCopied { .. }, Self::LinkCopied { .. }))
    }
}

#[cfg(test)]
mod tests;
