//! What a run is set up with, and reading it from the URL (for course sites that link to a
//! ready configuration). Pure: tested natively.

use std::str::FromStr;

pub use protocol::messages::BackendChoice;
use protocol::messages::{ModelRef, RunSettings};
use protocol::{DEFAULT_DROPOUT_RATE, DEFAULT_NOISE_STDDEV, Experiment, ModelShape};

use crate::i18n::Locale;
use leptos_i18n::Locale as _;

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub experiment: Experiment,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub seed: u64,
    pub noise_stddev: f64,
    pub dropout_rate: f64,
    /// Train on the first N training images only.
    pub train_limit: Option<usize>,
    pub backend: BackendChoice,
    pub autostart: bool,
    /// Parts of the page to leave out (for embedding in a course page).
    pub hide: Vec<Panel>,
    /// The test images whose reconstructions are shown; None: the first few.
    pub images: Option<Vec<usize>>,
    /// Class colours on the map.
    pub palette: Palette,
    /// The page's language when the visitor or the link chose one; None: the browser's.
    pub lang: Option<Locale>,
    /// Denoising and dropout start from the tied model shown, as the chapter does.
    pub from_tied: bool,
    /// What the map shows.
    pub map: MapMethod,
    /// t-SNE's perplexity.
    pub perplexity: f32,
    /// The engine and the test images come once the first view is drawn and the page is idle;
    /// off, at the visitor's first use (a click, a key, a scroll).
    pub prefetch: bool,
    /// The page keeps a copy of itself, and of the data it fetched, on the visitor's device
    /// (its service worker, `public/sw.js`), so it opens and trains offline. `sw=0` turns
    /// that off; public/boot.js acts on it before the shell runs, the shell keeps it in links.
    pub offline_copy: bool,
}

/// How the map places the test images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapMethod {
    /// t-SNE of the codes (the chapter's map).
    Tsne,
    /// The codes' first two principal components.
    PcaCodes,
    /// The raw pixels' first two principal components: no model at all.
    PcaPixels,
}

impl MapMethod {
    pub const ALL: [MapMethod; 3] = [Self::Tsne, Self::PcaCodes, Self::PcaPixels];

    pub fn name(self) -> &'static str {
        match self {
            Self::Tsne => "tsne",
            Self::PcaCodes => "pca",
            Self::PcaPixels => "pixels",
        }
    }
}

/// A URL parameter that was not used, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub key: String,
    pub value: String,
    pub problem: Problem,
}

/// What a URL parameter's value should have been.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    Experiment,
    WholeNumber { min: usize, max: usize },
    AtLeast { min: usize },
    /// A number from `min` to `max`, ends included.
    Number { min: f64, max: f64 },
    /// A number above `min`, at most `max`.
    Above { min: f64, max: f64 },
    Seed,
    OneOf(&'static [&'static str]),
    Panels { unknown: String, known: Vec<&'static str> },
    Images { max: usize },
}

/// Colours for the ten classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Palette {
    /// matplotlib's tab10, as in the chapter.
    Chapter,
    /// Tableau's colour-blind-safe ten, distinguishable with the common colour-vision deficiencies.
    ColorBlindSafe,
}

/// The parts of the page `hide=` can leave out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Header,
    Controls,
    Status,
    Curves,
    Reconstructions,
    Map,
    Explore,
    Compare,
    Table,
}

impl Panel {
    pub const ALL: [Panel; 9] = [
        Self::Header,
        Self::Controls,
        Self::Status,
        Self::Curves,
        Self::Reconstructions,
        Self::Map,
        Self::Explore,
        Self::Compare,
        Self::Table,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Controls => "controls",
            Self::Status => "status",
            Self::Curves => "curves",
            Self::Reconstructions => "reconstructions",
            Self::Map => "map",
            Self::Explore => "explore",
            Self::Compare => "compare",
            Self::Table => "table",
        }
    }
}

/// Test images a link may name.
pub const TEST_IMAGES: usize = 10_000;

impl Default for Settings {
    fn default() -> Self {
        Self {
            experiment: Experiment::Stacked,
            epochs: 10,
            batch_size: 32,
            learning_rate: 1.5,
            seed: 0,
            noise_stddev: DEFAULT_NOISE_STDDEV,
            dropout_rate: DEFAULT_DROPOUT_RATE,
            train_limit: None,
            backend: BackendChoice::Auto,
            autostart: false,
            hide: Vec::new(),
            images: None,
            palette: Palette::Chapter,
            lang: None,
            from_tied: false,
            map: MapMethod::Tsne,
            perplexity: DEFAULT_PERPLEXITY,
            prefetch: true,
            offline_copy: true,
        }
    }
}

/// scikit-learn's, and the shipped maps'.
pub const DEFAULT_PERPLEXITY: f32 = 30.0;
pub const MIN_PERPLEXITY: f32 = 5.0;
pub const MAX_PERPLEXITY: f32 = 100.0;

/// Bounds the page accepts; the controls use the same ones.
pub const MAX_EPOCHS: usize = 100;
pub const MAX_BATCH: usize = 4096;
pub const MAX_LEARNING_RATE: f64 = 100.0;
pub const MAX_NOISE_STDDEV: f64 = 1.0;
pub const MAX_DROPOUT_RATE: f64 = 0.95;

impl Settings {
    /// Settings from URL query pairs; each bad value falls back to its default with a warning.
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> (Self, Vec<Warning>) {
        let mut settings = Self::default();
        let mut warnings = Vec::new();
        for (key, value) in pairs {
            let value = value.trim();
            let result = match key {
                "experiment" => value.parse().map(|e| settings.experiment = e).map_err(|_| Problem::Experiment),
                "epochs" => number(value, 1, MAX_EPOCHS).map(|v| settings.epochs = v),
                "batch" => number(value, 1, MAX_BATCH).map(|v| settings.batch_size = v),
                "lr" => real(value, 0.0, MAX_LEARNING_RATE, false).map(|v| settings.learning_rate = v),
                "seed" => value.parse().map(|v| settings.seed = v).map_err(|_| Problem::Seed),
                "noise" => real(value, 0.0, MAX_NOISE_STDDEV, true).map(|v| settings.noise_stddev = v),
                "dropout" => real(value, 0.0, MAX_DROPOUT_RATE, true).map(|v| settings.dropout_rate = v),
                "train_limit" => number(value, 1, usize::MAX).map(|v| settings.train_limit = Some(v)),
                "backend" => match value.to_ascii_lowercase().as_str() {
                    "webgpu" | "gpu" => Ok(settings.backend = BackendChoice::WebGpu),
                    "cpu" => Ok(settings.backend = BackendChoice::Cpu),
                    "auto" => Ok(settings.backend = BackendChoice::Auto),
                    _ => Err(Problem::OneOf(&["webgpu", "cpu", "auto"])),
                },
                "autostart" => switch(value).map(|on| settings.autostart = on),
                "prefetch" => switch(value).map(|on| settings.prefetch = on),
                "sw" => switch(value).map(|on| settings.offline_copy = on),
                "hide" => panels(value).map(|v| settings.hide = v),
                "images" => image_list(value).map(|v| settings.images = Some(v)),
                "palette" => match value.to_ascii_lowercase().as_str() {
                    "chapter" => Ok(settings.palette = Palette::Chapter),
                    "safe" => Ok(settings.palette = Palette::ColorBlindSafe),
                    _ => Err(Problem::OneOf(&["chapter", "safe"])),
                },
                "lang" => Locale::from_str(&value.to_ascii_lowercase()).map(|l| settings.lang = Some(l)).map_err(|_| Problem::OneOf(&["zh", "en"])),
                "from" => match value.to_ascii_lowercase().as_str() {
                    "tied" => Ok(settings.from_tied = true),
                    "scratch" => Ok(settings.from_tied = false),
                    _ => Err(Problem::OneOf(&["tied", "scratch"])),
                },
                "map" => MapMethod::ALL
                    .into_iter()
                    .find(|m| m.name() == value.to_ascii_lowercase())
                    .map(|m| settings.map = m)
                    .ok_or(Problem::OneOf(&["tsne", "pca", "pixels"])),
                // Checked as f64, kept as the f32 the string spells, so links round-trip.
                "perplexity" => real(value, f64::from(MIN_PERPLEXITY), f64::from(MAX_PERPLEXITY), true)
                    .map(|_| settings.perplexity = value.parse().unwrap_or(DEFAULT_PERPLEXITY)),
                _ => continue,
            };
            if let Err(problem) = result {
                warnings.push(Warning { key: key.to_string(), value: value.to_string(), problem });
            }
        }
        (settings, warnings)
    }

    /// The settings as URL query pairs: only what differs from the defaults, so links stay short.
    /// `autostart` is left out: a copied link shows the page, it does not start training.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let default = Self::default();
        let mut pairs = Vec::new();
        let mut differs = |key, changed: bool, value: String| {
            if changed {
                pairs.push((key, value));
            }
        };
        differs("experiment", self.experiment != default.experiment, self.experiment.to_string());
        differs("epochs", self.epochs != default.epochs, self.epochs.to_string());
        differs("batch", self.batch_size != default.batch_size, self.batch_size.to_string());
        differs("lr", self.learning_rate != default.learning_rate, self.learning_rate.to_string());
        differs("seed", self.seed != default.seed, self.seed.to_string());
        differs("noise", self.noise_stddev != default.noise_stddev, self.noise_stddev.to_string());
        differs("dropout", self.dropout_rate != default.dropout_rate, self.dropout_rate.to_string());
        if let Some(limit) = self.train_limit {
            differs("train_limit", true, limit.to_string());
        }
        let backend = match self.backend {
            BackendChoice::Auto => "auto",
            BackendChoice::WebGpu => "webgpu",
            BackendChoice::Cpu => "cpu",
        };
        differs("backend", self.backend != default.backend, backend.into());
        let hidden: Vec<&str> = self.hide.iter().map(|p| p.name()).collect();
        differs("hide", !hidden.is_empty(), hidden.join(","));
        if let Some(images) = &self.images {
            differs("images", true, images.iter().map(usize::to_string).collect::<Vec<_>>().join(","));
        }
        differs("palette", self.palette != default.palette, "safe".into());
        if let Some(lang) = self.lang {
            differs("lang", true, lang.as_str().to_string());
        }
        differs("from", self.from_tied, "tied".into());
        differs("map", self.map != default.map, self.map.name().into());
        differs("perplexity", self.perplexity != default.perplexity, self.perplexity.to_string());
        differs("prefetch", self.prefetch != default.prefetch, "0".into());
        differs("sw", self.offline_copy != default.offline_copy, "0".into());
        pairs
    }

    pub fn shows(&self, panel: Panel) -> bool {
        !self.hide.contains(&panel)
    }

    /// The model these settings train: the experiment's, with its corruption level.
    pub fn shape(&self) -> ModelShape {
        let mut shape = self.experiment.shape();
        match self.experiment {
            Experiment::Denoising => shape.noise_stddev = self.noise_stddev,
            Experiment::Dropout => shape.dropout_rate = self.dropout_rate,
            Experiment::Stacked | Experiment::Tied => {}
        }
        shape
    }

    /// A run of these settings, as the engine takes it: from fresh weights unless `start_from`
    /// names a model, reconstructing `sample` after each epoch.
    pub fn run_settings(&self, start_from: Option<ModelRef>, sample: Vec<usize>) -> RunSettings {
        RunSettings {
            shape: self.shape(),
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            seed: self.seed,
            train_limit: self.train_limit,
            start_from,
            sample,
        }
    }
}

/// A yes-or-no parameter.
fn switch(value: &str) -> Result<bool, Problem> {
    match value {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(Problem::OneOf(&["1", "0"])),
    }
}

fn number(value: &str, min: usize, max: usize) -> Result<usize, Problem> {
    match value.parse::<usize>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ if max == usize::MAX => Err(Problem::AtLeast { min }),
        _ => Err(Problem::WholeNumber { min, max }),
    }
}

/// A finite number in `min..=max` (above `min` unless `min_allowed`).
fn real(value: &str, min: f64, max: f64, min_allowed: bool) -> Result<f64, Problem> {
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() && v <= max && (v > min || (min_allowed && v == min)) => Ok(v),
        _ if min_allowed => Err(Problem::Number { min, max }),
        _ => Err(Problem::Above { min, max }),
    }
}

fn panels(value: &str) -> Result<Vec<Panel>, Problem> {
    value
        .split(',')
        .filter(|name| !name.trim().is_empty())
        .map(|name| {
            let name = name.trim().to_ascii_lowercase();
            Panel::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| Problem::Panels {
                unknown: name,
                known: Panel::ALL.iter().map(|p| p.name()).collect(),
            })
        })
        .collect()
}

/// Up to six test-image indices, each below 10,000.
fn image_list(value: &str) -> Result<Vec<usize>, Problem> {
    let why = || Problem::Images { max: TEST_IMAGES - 1 };
    let images: Vec<usize> = value.split(',').map(|v| v.trim().parse().map_err(|_| why())).collect::<Result<_, _>>()?;
    if images.is_empty() || images.len() > 6 || images.iter().any(|&i| i >= TEST_IMAGES) {
        return Err(why());
    }
    Ok(images)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;
