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
}

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
        }
    }
}

/// Bounds the page accepts; the controls use the same ones.
pub const MAX_EPOCHS: usize = 100;
pub const MAX_BATCH: usize = 4096;
pub const MAX_LEARNING_RATE: f64 = 10.0;
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
                _ => continue,
            };
            if let Err(why) = result {
                warnings.push(format!("URL parameter {key}={value:?} ignored: {why}; using the default."));
            }
        }
        (settings, warnings)
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
    fn the_defaults_are_the_chapters() {
        let config = Settings::default().training_config();
        assert_eq!((config.epochs, config.batch_size, config.learning_rate), (10, 32, 1.5));
    }
}
