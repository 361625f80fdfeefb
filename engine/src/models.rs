//! The models the engine works with: the site's pretrained ones, whose weights are fetched the
//! first time one is asked about, and those made in this session (trained here, or loaded from
//! a file), kept until the shell forgets them.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::lock::Mutex;
use model::burn::prelude::Device;
use model::{AutoencoderConfig, Experiment, ModelShape, Trainer, TrainingConfig};
use protocol::messages::ModelRef;

use crate::backend::STEP_ENGINE;
use crate::worker::fetch_bytes;

/// Relative, so the page works from any sub-path.
const PRETRAINED_URL: &str = "pretrained/";

#[derive(Default)]
pub struct Models {
    pretrained: RefCell<HashMap<Experiment, Rc<Trainer>>>,
    made: RefCell<HashMap<u32, Rc<Trainer>>>,
    next: Cell<u32>,
    /// One fetch of pretrained weights at a time: a second asker finds the first one's model.
    fetching: Mutex<()>,
}

impl Models {
    /// The model `model` names; pretrained weights are fetched onto `device` the first time.
    pub async fn get(&self, model: ModelRef, device: &Device) -> Result<Rc<Trainer>, String> {
        match model {
            ModelRef::Made(id) => self.made.borrow().get(&id).cloned().ok_or_else(|| format!("model {id} is no longer kept by the engine")),
            ModelRef::Pretrained(experiment) => {
                let _one_fetch = self.fetching.lock().await;
                if let Some(trainer) = self.pretrained.borrow().get(&experiment) {
                    return Ok(trainer.clone());
                }
                let trainer = Rc::new(pretrained(experiment, device).await?);
                self.pretrained.borrow_mut().insert(experiment, trainer.clone());
                Ok(trainer)
            }
        }
    }

    /// Keeps `trainer` as a model made here; its name for later requests.
    pub fn add(&self, trainer: Trainer) -> u32 {
        let id = self.next.get();
        self.next.set(id + 1);
        self.made.borrow_mut().insert(id, Rc::new(trainer));
        id
    }

    pub fn forget(&self, id: u32) {
        self.made.borrow_mut().remove(&id);
    }

    /// Weights from a `.safetensors` file, as a model of `shape` on `device`.
    pub fn load(&self, shape: ModelShape, bytes: &[u8], device: &Device) -> Result<u32, String> {
        let config = TrainingConfig::new(AutoencoderConfig::from(shape)).with_engine(STEP_ENGINE);
        let trainer = Trainer::from_weights(config, bytes, 0, device).map_err(|e| e.to_string())?;
        Ok(self.add(trainer))
    }
}

/// The site's pretrained model of `experiment`, on `device`.
async fn pretrained(experiment: Experiment, device: &Device) -> Result<Trainer, String> {
    let weights = fetch_bytes(&format!("{PRETRAINED_URL}{experiment}.safetensors")).await?;
    let config = TrainingConfig::new(AutoencoderConfig::of(experiment)).with_engine(STEP_ENGINE);
    Trainer::from_weights(config, &weights, 0, device).map_err(|e| e.to_string())
}
