//! Where a CPU training step's time goes in the browser: [`model::Trainer::profile`] (the same
//! phases `fmnist-ae bench` prints natively) for the CPU step and burn's autodiff step, built for
//! wasm with SIMD128 as the page's engine is, and run in Chromium by `bench/run.mjs`
//! (`bench/step-profile/index.html`).

use model::burn::prelude::Device;
use model::data::{IMAGE_PIXELS, LabeledImages};
use model::{AutoencoderConfig, Experiment, StepEngine, Trainer, TrainingConfig};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::wasm_bindgen;

/// Batches of images the profile cycles through: the step's speed does not depend on the pixels.
const BATCHES: usize = 20;
/// Untimed steps first: the first ones allocate the step's buffers.
const WARMUP_STEPS: usize = 5;

/// The phase profile of `steps` training steps of the stacked model at `batch_size`, with burn's
/// autodiff step when `autodiff`, else the CPU step: [`model::StepProfile`] as JSON, or an
/// error's message.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn profile(batch_size: usize, steps: usize, autodiff: bool) -> String {
    let run = || -> Result<String, String> {
        let count = batch_size * BATCHES;
        let pixels = (0..count * IMAGE_PIXELS).map(|i| (i * 37 % 251) as u8).collect();
        let images = LabeledImages::new(pixels, vec![0; count]).ok_or("one label per image")?;
        let engine = if autodiff { StepEngine::Autodiff } else { StepEngine::Auto };
        let config = TrainingConfig::new(AutoencoderConfig::of(Experiment::Stacked)).with_batch_size(batch_size).with_engine(engine);
        let mut trainer = Trainer::new(config, &Device::flex()).map_err(|e| e.to_string())?;
        trainer.profile(&images, WARMUP_STEPS).map_err(|e| e.to_string())?;
        let profile = trainer.profile(&images, steps).map_err(|e| e.to_string())?;
        Ok(serde_json::to_string(&profile).expect("plain numbers"))
    };
    run().unwrap_or_else(|error| serde_json::json!({ "error": error }).to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn profiles_both_steps_and_reports_bad_settings() {
        for autodiff in [false, true] {
            let profile: serde_json::Value = serde_json::from_str(&super::profile(8, 2, autodiff)).unwrap();
            assert_eq!(profile["steps"], 2, "{profile}");
            assert!(profile["forward"].as_f64().is_some_and(|s| s > 0.0), "{profile}");
        }
        let error: serde_json::Value = serde_json::from_str(&super::profile(0, 2, false)).unwrap();
        assert!(error["error"].as_str().is_some_and(|e| e.contains("batch size")), "{error}");
    }
}
