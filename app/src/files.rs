//! The pretrained weights and run records the site ships (written by `fmnist-ae pretrain`
//! into public/pretrained).

use model::burn::prelude::Device;
use model::{Experiment, Trainer, TrainingConfig};
use model::weights::RunRecord;

use crate::browser::fetch_bytes;

/// Relative, so the page works from any sub-path.
const PRETRAINED_URL: &str = "pretrained/";

/// The shipped weights and record of `experiment`.
pub async fn fetch_pretrained(experiment: Experiment) -> Result<(Vec<u8>, RunRecord), String> {
    let weights = fetch_bytes(&format!("{PRETRAINED_URL}{experiment}.safetensors")).await?;
    let url = format!("{PRETRAINED_URL}{experiment}.json");
    let record = fetch_bytes(&url).await?;
    let record = serde_json::from_slice(&record).map_err(|e| format!("{url} is not a run record: {e}"))?;
    Ok((weights, record))
}

/// The shipped model of `experiment`, ready on `device`, and its record.
pub async fn pretrained_model(experiment: Experiment, device: &Device) -> Result<(Trainer, RunRecord), String> {
    let (weights, record) = fetch_pretrained(experiment).await?;
    let config = TrainingConfig::new(experiment.model_config())
        .with_epochs(record.epochs)
        .with_batch_size(record.batch_size)
        .with_learning_rate(record.learning_rate)
        .with_seed(record.seed)
        .with_engine(crate::backend::STEP_ENGINE);
    let trainer = Trainer::from_weights(config, &weights, record.epochs, device).map_err(|e| e.to_string())?;
    Ok((trainer, record))
}
