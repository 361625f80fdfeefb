//! Weights and run records as files: the pretrained ones the site ships (written by
//! `fmnist-ae pretrain` into public/pretrained), downloads of the visitor's own, and files the
//! visitor picks.

use js_sys::{Array, Uint8Array};
use model::burn::prelude::Device;
use model::{Experiment, Trainer, TrainingConfig};
use model::weights::RunRecord;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, File, HtmlAnchorElement, Url};

use crate::backend::describe;
use crate::data::fetch_bytes;

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
        .with_engine(crate::run::STEP_ENGINE);
    let trainer = Trainer::from_weights(config, &weights, record.epochs, device).map_err(|e| e.to_string())?;
    Ok((trainer, record))
}

/// Offers `bytes` to the visitor as a file called `name`.
pub fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let failed = |e: wasm_bindgen::JsValue| format!("could not save {name}: {}", describe(&e));
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(failed)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(failed)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let link: HtmlAnchorElement = document.create_element("a").map_err(failed)?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    Url::revoke_object_url(&url).map_err(failed)
}

/// The contents of a file the visitor picked.
pub async fn read(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("could not read {}: {}", file.name(), describe(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
