//! What the page keeps on the compute side between runs: the device, the data, the shown model
//! and its test codes, the runs trained here, the t-SNE worker. Components never read it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use model::burn::prelude::Device;
use model::data::LabeledImages;
use model::weights::RunRecord;
use model::{Experiment, Trainer};

use crate::backend::BackendKind;
use crate::data::Dataset;
use crate::embedding::{self, Mapper};
use crate::browser::sleep;
use crate::run::RunControl;

/// The test codes of the shown model: `dim` values per test image.
pub struct Codes {
    pub values: Vec<f32>,
    pub dim: usize,
}

#[derive(Clone, Default)]
pub struct Compute {
    pub device: Rc<RefCell<Option<(Device, BackendKind)>>>,
    pub dataset: Rc<RefCell<Dataset>>,
    /// The model shown (pretrained, loaded or trained here); none while a run trains.
    trainer: Rc<RefCell<Option<Rc<Trainer>>>>,
    codes: Rc<RefCell<Option<Rc<Codes>>>>,
    /// The test images are being encoded: callers wait for those codes rather than encode again.
    encoding: Rc<Cell<bool>>,
    /// The record of what is shown, for "Save history".
    pub record: Rc<RefCell<Option<RunRecord>>>,
    /// The last model trained here per experiment, for the comparison.
    pub runs: Rc<RefCell<Vec<(Experiment, Rc<Trainer>, RunRecord)>>>,
    pub control: Rc<RefCell<Option<RunControl>>>,
    pub mapper: Mapper,
    /// Bumped whenever something new is shown (a run starts, pretrained or imported weights):
    /// a slower load that finishes later must not overwrite it.
    shown_token: Rc<Cell<u64>>,
}

impl Compute {
    pub fn next_token(&self) -> u64 {
        self.shown_token.set(self.shown_token.get() + 1);
        self.shown_token.get()
    }

    pub fn is_current(&self, token: u64) -> bool {
        self.shown_token.get() == token
    }

    pub fn device(&self) -> Option<(Device, BackendKind)> {
        self.device.borrow().clone()
    }

    pub fn test(&self) -> Option<Rc<LabeledImages>> {
        self.dataset.borrow().test.clone()
    }

    pub fn trainer(&self) -> Option<Rc<Trainer>> {
        self.trainer.borrow().clone()
    }

    /// Shows `trainer`, or nothing while a run trains; the codes of the last one are dropped.
    pub fn set_trainer(&self, trainer: Option<Rc<Trainer>>) {
        *self.trainer.borrow_mut() = trainer;
        *self.codes.borrow_mut() = None;
    }

    /// The shown model's codes of the test images, encoded once per model.
    pub async fn test_codes(&self) -> Result<Rc<Codes>, String> {
        while self.encoding.get() {
            sleep(20).await;
        }
        if let Some(codes) = self.codes.borrow().clone() {
            return Ok(codes);
        }
        let (Some(trainer), Some(test)) = (self.trainer(), self.test()) else { return Err("no model is shown".into()) };
        self.encoding.set(true);
        let encoded = embedding::codes(&trainer, &test).await;
        self.encoding.set(false);
        let (values, dim) = encoded.map_err(|e| format!("could not encode the test images: {e}"))?;
        let codes = Rc::new(Codes { values, dim });
        // The model may have changed while encoding: keep the codes only if it did not.
        if self.trainer().is_some_and(|t| Rc::ptr_eq(&t, &trainer)) {
            *self.codes.borrow_mut() = Some(codes.clone());
        }
        Ok(codes)
    }
}
