//! What a run is set up with, and reading it from the URL (for course sites that link to a
//! ready configuration). Pure: tested natively.

use model::{DEFAULT_DROPOUT_RATE, DEFAULT_NOISE_STDDEV, Experiment, TrainingConfig};

/// Which backend to train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// The faster one on this machine.
    Auto,
    WebGpu,
    Cpu,
}

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
        }
    }
}

/// Bounds the page accepts; the controls use the same ones.
pub const MAX_EPOCHS: usize = 100;
pub const MAX_BATCH: usize = 4096;
pub const MAX_LEARNING_RATE: f64 = 100.0;
pub const MAX_NOISE_STDDEV: f64 = 1.0;
pub const MAX_DROPOUT_RATE: f64 = 0.95;

impl Settings {
    /// Settings from URL query pairs; each bad value falls back to its default with a warning.
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> (Self, Vec<String>) {
        let mut settings = Self::default();
        let mut warnings = Vec::new();
        for (key, value) in pairs {
            let value = value.trim();
            let result = match key {
                "experiment" => value.parse().map(|e| settings.experiment = e).map_err(|e| e.to_string()),
                "epochs" => number(value, 1, MAX_EPOCHS).map(|v| settings.epochs = v),
                "batch" => number(value, 1, MAX_BATCH).map(|v| settings.batch_size = v),
                "lr" => real(value, 0.0, MAX_LEARNING_RATE, false).map(|v| settings.learning_rate = v),
                "seed" => value.parse().map(|v| settings.seed = v).map_err(|_| "expected a whole number".into()),
                "noise" => real(value, 0.0, MAX_NOISE_STDDEV, true).map(|v| settings.noise_stddev = v),
                "dropout" => real(value, 0.0, MAX_DROPOUT_RATE, true).map(|v| settings.dropout_rate = v),
                "train_limit" => number(value, 1, usize::MAX).map(|v| settings.train_limit = Some(v)),
                "backend" => match value.to_ascii_lowercase().as_str() {
                    "webgpu" | "gpu" => Ok(settings.backend = BackendChoice::WebGpu),
                    "cpu" => Ok(settings.backend = BackendChoice::Cpu),
                    "auto" => Ok(settings.backend = BackendChoice::Auto),
                    _ => Err("expected webgpu, cpu or auto".into()),
                },
                "autostart" => match value {
                    "1" | "true" | "yes" => Ok(settings.autostart = true),
                    "0" | "false" | "no" => Ok(settings.autostart = false),
                    _ => Err("expected 1 or 0".into()),
                },
                "hide" => panels(value).map(|v| settings.hide = v),
                "images" => image_list(value).map(|v| settings.images = Some(v)),
                "palette" => match value.to_ascii_lowercase().as_str() {
                    "chapter" => Ok(settings.palette = Palette::Chapter),
                    "safe" => Ok(settings.palette = Palette::ColorBlindSafe),
                    _ => Err("expected chapter or safe".into()),
                },
                _ => continue,
            };
            if let Err(why) = result {
                warnings.push(format!("URL parameter {key}={value:?} ignored: {why}; using the default."));
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
        pairs
    }

    pub fn shows(&self, panel: Panel) -> bool {
        !self.hide.contains(&panel)
    }

    /// The model crate's training config for these settings.
    pub fn training_config(&self) -> TrainingConfig {
        let mut model = self.experiment.model_config();
        match self.experiment {
            Experiment::Denoising => model.noise_stddev = self.noise_stddev,
            Experiment::Dropout => model.dropout_rate = self.dropout_rate,
            Experiment::Stacked | Experiment::Tied => {}
        }
        TrainingConfig::new(model)
            .with_epochs(self.epochs)
            .with_batch_size(self.batch_size)
            .with_learning_rate(self.learning_rate)
            .with_seed(self.seed)
    }
}

fn number(value: &str, min: usize, max: usize) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        Ok(_) if max == usize::MAX => Err(format!("expected at least {min}")),
        _ if max == usize::MAX => Err(format!("expected a whole number of at least {min}")),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

/// A finite number in `min..=max` (above `min` unless `min_allowed`).
fn real(value: &str, min: f64, max: f64, min_allowed: bool) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() && v <= max && (v > min || (min_allowed && v == min)) => Ok(v),
        _ if min_allowed => Err(format!("expected a number from {min} to {max}")),
        _ => Err(format!("expected a number above {min}, at most {max}")),
    }
}

fn panels(value: &str) -> Result<Vec<Panel>, String> {
    value
        .split(',')
        .filter(|name| !name.trim().is_empty())
        .map(|name| {
            let name = name.trim().to_ascii_lowercase();
            Panel::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
                let known: Vec<&str> = Panel::ALL.iter().map(|p| p.name()).collect();
                format!("unknown part {name:?}; expected some of {}", known.join(", "))
            })
        })
        .collect()
}

/// Up to six test-image indices, each below 10,000.
fn image_list(value: &str) -> Result<Vec<usize>, String> {
    let why = || format!("expected up to 6 test-image numbers from 0 to {}, separated by commas", TEST_IMAGES - 1);
    let images: Vec<usize> = value.split(',').map(|v| v.trim().parse().map_err(|_| why())).collect::<Result<_, _>>()?;
    if images.is_empty() || images.len() > 6 || images.iter().any(|&i| i >= TEST_IMAGES) {
        return Err(why());
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&'static str, &'static str)]) -> (Settings, Vec<String>) {
        Settings::from_query(query.iter().copied())
    }

    #[test]
    fn reads_every_parameter() {
        let (settings, warnings) = parse(&[
            ("experiment", "denoising"),
            ("epochs", "1"),
            ("batch", "64"),
            ("lr", "0.5"),
            ("seed", "7"),
            ("noise", "0.3"),
            ("train_limit", "2048"),
            ("backend", "cpu"),
            ("autostart", "1"),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            settings,
            Settings {
                experiment: Experiment::Denoising,
                epochs: 1,
                batch_size: 64,
                learning_rate: 0.5,
                seed: 7,
                noise_stddev: 0.3,
                train_limit: Some(2048),
                backend: BackendChoice::Cpu,
                autostart: true,
                ..Settings::default()
            }
        );
        assert_eq!(settings.training_config().model.noise_stddev, 0.3);
    }

    #[test]
    fn bad_values_fall_back_to_defaults_with_a_message() {
        let (settings, warnings) = parse(&[
            ("experiment", "convolutional"),
            ("epochs", "0"),
            ("lr", "NaN"),
            ("batch", "-3"),
            ("backend", "tpu"),
            ("dropout", "1"),
            ("train_limit", "lots"),
            ("unrelated", "kept out of it"),
        ]);
        assert_eq!(settings, Settings::default());
        assert_eq!(warnings.len(), 7, "{warnings:?}");
        assert!(warnings[0].contains("experiment=\"convolutional\"") && warnings[0].contains("stacked, tied"));
        assert!(warnings[1].contains("from 1 to 100"));
    }

    #[test]
    fn links_round_trip_and_stay_short() {
        assert!(Settings::default().to_query().is_empty());
        let (settings, warnings) = parse(&[
            ("experiment", "dropout"),
            ("dropout", "0.3"),
            ("lr", "0.75"),
            ("seed", "3"),
            ("backend", "webgpu"),
            ("hide", "header,Table"),
            ("images", "5,9999,0"),
            ("palette", "safe"),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(settings.hide, vec![Panel::Header, Panel::Table]);
        assert_eq!(settings.palette, Palette::ColorBlindSafe);
        assert!(!settings.shows(Panel::Table) && settings.shows(Panel::Map));
        let query = settings.to_query();
        let (again, warnings) = Settings::from_query(query.iter().map(|(k, v)| (*k, v.as_str())));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(again, settings);
    }

    #[test]
    fn bad_panels_and_images_are_explained() {
        let (settings, warnings) = parse(&[("hide", "curves,sidebar"), ("images", "1,2,10000")]);
        assert_eq!((settings.hide, settings.images), (Vec::new(), None));
        assert!(warnings[0].contains("\"sidebar\"") && warnings[0].contains("reconstructions"), "{warnings:?}");
        assert!(warnings[1].contains("from 0 to 9999"), "{warnings:?}");
        assert!(parse(&[("images", "1,2,3,4,5,6,7")]).1[0].contains("up to 6"));
    }

    #[test]
    fn the_defaults_are_the_chapters() {
        let config = Settings::default().training_config();
        assert_eq!((config.epochs, config.batch_size, config.learning_rate), (10, 32, 1.5));
    }
}

/// Fuzzing the URL-parameter parser (see docs/fuzzing.md): arbitrary keys and values, and valid
/// links, must never panic; whatever settings a link yields must stay within the page's bounds
/// and make a link that reads back to the same settings with no warnings.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    use super::*;

    const KEYS: [&str; 13] = [
        "experiment", "epochs", "batch", "lr", "seed", "noise", "dropout", "train_limit", "backend", "autostart", "hide",
        "images", "palette",
    ];

    /// `default` cases unless `PROPTEST_CASES` says otherwise.
    fn config(default: u32) -> Config {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        Config { cases, failure_persistence: None, ..Config::default() }
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u64..200).prop_map(|v| v.to_string()),
            any::<u64>().prop_map(|v| v.to_string()),
            any::<i64>().prop_map(|v| v.to_string()),
            (0.0f64..12.0).prop_map(|v| v.to_string()),
            any::<f64>().prop_map(|v| v.to_string()),
            any::<f64>().prop_map(|v| format!("{v:e}")),
            prop::sample::select(vec![
                "NaN", "nan", "inf", "-inf", "+Inf", "infinity", "1e309", "-1e309", "1e-320", "-0", "+0", "0", "+5", " 7 ",
                "0x10", "1_000", "١٢", "99999999999999999999999999", "18446744073709551616", "1.", ".5", "5e", "",
            ])
            .prop_map(String::from),
        ]
    }

    /// Comma-separated lists: short or thousands of entries, numbers or panel names, with stray
    /// spaces, empty items and unknown names.
    fn list() -> impl Strategy<Value = String> {
        let item = prop_oneof![
            4 => (0usize..12_000).prop_map(|v| v.to_string()),
            3 => prop::sample::select(Panel::ALL.to_vec()).prop_map(|p| p.name().to_string()),
            1 => prop::sample::select(Panel::ALL.to_vec()).prop_map(|p| format!(" {} ", p.name().to_uppercase())),
            1 => number(),
            1 => "\\PC{0,6}",
        ];
        prop_oneof![
            4 => prop::collection::vec(item.clone(), 0..8),
            1 => prop::collection::vec(item, 0..3000),
        ]
        .prop_map(|items| items.join(","))
    }

    fn word() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "stacked", "TIED", " denoising ", "Dropout", "convolutional", "webgpu", "gpu", "CPU", "auto", "tpu", "1", "0",
            "true", "yes", "no", "maybe", "chapter", "safe", "SAFE",
        ])
        .prop_map(String::from)
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![3 => number(), 2 => list(), 2 => word(), 1 => "\\PC{0,24}", 1 => any::<String>()]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![9 => prop::sample::select(KEYS.to_vec()).prop_map(String::from), 1 => "\\PC{0,12}"]
    }

    /// The settings are within the bounds the page accepts.
    fn in_bounds(s: &Settings) -> Result<(), TestCaseError> {
        prop_assert!((1..=MAX_EPOCHS).contains(&s.epochs));
        prop_assert!((1..=MAX_BATCH).contains(&s.batch_size));
        prop_assert!(s.learning_rate.is_finite() && s.learning_rate > 0.0 && s.learning_rate <= MAX_LEARNING_RATE);
        prop_assert!((0.0..=MAX_NOISE_STDDEV).contains(&s.noise_stddev));
        prop_assert!((0.0..=MAX_DROPOUT_RATE).contains(&s.dropout_rate));
        prop_assert!(s.train_limit.is_none_or(|limit| limit >= 1));
        if let Some(images) = &s.images {
            prop_assert!((1..=6).contains(&images.len()) && images.iter().all(|&i| i < TEST_IMAGES), "{images:?}");
        }
        Ok(())
    }

    /// The link made from `settings` reads back to them (but for `autostart`, which links leave
    /// out), with no warnings, and makes the same link again.
    fn round_trips(settings: &Settings) -> Result<(), TestCaseError> {
        let query = settings.to_query();
        let (again, warnings) = Settings::from_query(query.iter().map(|(k, v)| (*k, v.as_str())));
        prop_assert!(warnings.is_empty(), "{query:?}: {warnings:?}");
        prop_assert_eq!(&again, &Settings { autostart: false, ..settings.clone() }, "{:?}", query);
        prop_assert_eq!(again.to_query(), query);
        Ok(())
    }

    proptest! {
        #![proptest_config(config(6_000))]

        #[test]
        fn any_query_is_read_within_bounds_and_round_trips(
            pairs in prop::collection::vec((key(), value()), 0..12),
        ) {
            let (settings, warnings) = Settings::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            prop_assert!(warnings.len() <= pairs.len());
            in_bounds(&settings)?;
            let _ = settings.training_config();
            round_trips(&settings)?;
        }
    }

    /// A valid value for each key, in random order and case, some keys repeated.
    fn valid_pair() -> impl Strategy<Value = (String, String)> {
        let case = |s: &str, upper: bool| if upper { s.to_uppercase() } else { s.to_string() };
        prop_oneof![
            (prop::sample::select(Experiment::ALL.to_vec()), any::<bool>())
                .prop_map(move |(e, upper)| ("experiment".into(), case(e.name(), upper))),
            (1..=MAX_EPOCHS).prop_map(|v| ("epochs".into(), v.to_string())),
            (1..=MAX_BATCH).prop_map(|v| ("batch".into(), v.to_string())),
            (f64::MIN_POSITIVE..=MAX_LEARNING_RATE).prop_map(|v| ("lr".into(), v.to_string())),
            any::<u64>().prop_map(|v| ("seed".into(), v.to_string())),
            (0.0..=MAX_NOISE_STDDEV).prop_map(|v| ("noise".into(), v.to_string())),
            (0.0..=MAX_DROPOUT_RATE).prop_map(|v| ("dropout".into(), v.to_string())),
            (1usize..).prop_map(|v| ("train_limit".into(), v.to_string())),
            prop::sample::select(vec!["webgpu", "gpu", "cpu", "auto", "CPU"]).prop_map(|v| ("backend".into(), v.into())),
            prop::sample::select(vec!["1", "0", "true", "false", "yes", "no"]).prop_map(|v| ("autostart".into(), v.into())),
            prop::collection::vec(prop::sample::select(Panel::ALL.to_vec()), 0..12).prop_map(|panels| {
                ("hide".into(), panels.iter().map(|p| p.name()).collect::<Vec<_>>().join(","))
            }),
            prop::collection::vec(0..TEST_IMAGES, 1..=6).prop_map(|images| {
                ("images".into(), images.iter().map(usize::to_string).collect::<Vec<_>>().join(", "))
            }),
        ]
    }

    proptest! {
        #![proptest_config(config(20_000))]

        #[test]
        fn valid_links_are_read_without_warnings_and_round_trip(
            pairs in prop::collection::vec(valid_pair(), 0..16),
        ) {
            let (settings, warnings) = Settings::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            prop_assert!(warnings.is_empty(), "{pairs:?}: {warnings:?}");
            in_bounds(&settings)?;
            // The last value given for a key is the one read.
            let last = |key: &str| pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
            if let Some(epochs) = last("epochs") {
                prop_assert_eq!(settings.epochs.to_string(), epochs);
            }
            if let Some(lr) = last("lr") {
                prop_assert_eq!(settings.learning_rate, lr.parse::<f64>().unwrap());
            }
            if let Some(seed) = last("seed") {
                prop_assert_eq!(settings.seed.to_string(), seed);
            }
            if let Some(images) = last("images") {
                let expected: Vec<usize> = images.split(',').map(|i| i.trim().parse().unwrap()).collect();
                prop_assert_eq!(settings.images.as_ref(), Some(&expected));
            }
            round_trips(&settings)?;
        }
    }

    #[test]
    fn thousands_of_images_are_one_warning() {
        let images: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
        let images = images.join(",");
        let (settings, warnings) = Settings::from_query([("images", images.as_str()), ("hide", &"map,".repeat(5000))]);
        assert_eq!(settings.images, None);
        assert_eq!(settings.hide.len(), 5000);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        round_trips(&settings).unwrap();
    }
}
