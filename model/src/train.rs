//! The training loop, written with burn's optimizer API so it runs natively and in the browser.
//!
//! It never reads a tensor back synchronously (that panics on WebGPU): the running loss and
//! accuracy are summed on the device and read with one async transaction per report.

use std::ops::ControlFlow;

use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::Transaction;
use rand::SeedableRng;
use rand::rngs::{SmallRng, StdRng};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::cpu_step::{self, CpuModel, Phase as StepPhase};
use crate::data::{IMAGE_PIXELS, LabeledImages};
#[cfg(feature = "wgpu")]
use crate::fused;
use crate::latent::Corruption;
use crate::weights::RunRecord;
use crate::{EpochRecord, Progress, Reconstructions};
use crate::loss::{binary_cross_entropy_with_logits, rounded_accuracy_of_logits};
use crate::{Autoencoder, AutoencoderConfig, ConfigError};

#[derive(Config, Debug)]
pub struct TrainingConfig {
    pub model: AutoencoderConfig,
    #[config(default = 10)]
    pub epochs: usize,
    #[config(default = 32)]
    pub batch_size: usize,
    /// Plain SGD, no momentum, as in the chapter.
    #[config(default = 1.5)]
    pub learning_rate: f64,
    /// Seeds the weights, the shuffling and the input corruption.
    #[config(default = 0)]
    pub seed: u64,
    /// Steps between progress reports; each costs one read back from the device.
    #[config(default = 100)]
    pub report_every: usize,
    /// How each step is computed; see [`StepEngine`].
    #[config(default = "StepEngine::Auto")]
    pub engine: StepEngine,
}

/// How a trainer computes its training steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepEngine {
    /// The fused kernels on burn's wgpu backend (a step of few kernel launches, the data kept
    /// on the device), the fused CPU step on burn's flex backend (natively and in wasm), burn's
    /// autodiff elsewhere.
    #[default]
    Auto,
    /// burn's autodiff and SGD optimizer on every backend: the reference.
    Autodiff,
}

/// A trainer's step machinery.
enum Engine {
    /// burn's autodiff and SGD optimizer; the model lives on the autodiff device.
    Autodiff(ModuleOptimizer),
    /// The CPU step of [`crate::cpu_step`]; the model lives on the plain device. While steps
    /// run, the weights live in `weights`; `stale` says the model has not been given them yet.
    /// `noise` draws the denoising and dropout models' input corruption, seeded by the config.
    Cpu { weights: Option<CpuModel>, stale: bool, noise: SmallRng },
    /// The fused kernels of [`crate::fused`]; the model lives on the plain device, and the
    /// images on the device once uploaded.
    #[cfg(feature = "wgpu")]
    Fused { train: Option<fused::DeviceImages>, test: Option<fused::DeviceImages> },
}

#[derive(Clone, Debug, PartialEq)]
pub enum TrainEvent {
    Progress(Progress),
    /// Validation after `epoch` has covered `done` of `total` test images.
    Validating { epoch: usize, done: usize, total: usize },
    Epoch(EpochRecord),
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Settings(&'static str),
    #[error("no {0} images to train on")]
    NoData(&'static str),
    #[error("stopped")]
    Stopped,
    #[error(
        "the loss became {loss:.4} at epoch {epoch}, step {step}: training diverged, so it stopped and kept the weights of the last finished epoch; try a smaller learning rate"
    )]
    Diverged { epoch: usize, step: usize, loss: f64 },
    #[error("reading results back from the device failed: {0}")]
    Device(String),
    #[error(transparent)]
    Weights(#[from] crate::weights::WeightsError),
}

/// Mean loss and rounded accuracy over a set of images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub rounded_accuracy: f64,
}

impl TrainingConfig {
    pub fn check(&self) -> Result<(), TrainError> {
        self.model.check()?;
        if self.batch_size == 0 || self.batch_size > 4096 {
            return Err(TrainError::Settings("batch size must be 1 to 4096"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(TrainError::Settings("learning rate must be a finite number above 0"));
        }
        if self.report_every == 0 {
            return Err(TrainError::Settings("report_every must be at least 1"));
        }
        Ok(())
    }
}

/// Trains one autoencoder, an epoch at a time.
pub struct Trainer {
    config: TrainingConfig,
    /// On the autodiff device (where burn's corruption layers are active) with the autodiff
    /// engine, on the plain device with the fused one.
    model: Autoencoder,
    engine: Engine,
    device: Device,
    shuffle: StdRng,
    epochs_done: usize,
}

impl Trainer {
    /// A fresh model on `device`, seeded from the config.
    pub fn new(config: TrainingConfig, device: &Device) -> Result<Self, TrainError> {
        config.check()?;
        let (engine, device) = Engine::for_device(&config, device);
        device.seed(config.seed);
        Ok(Self {
            model: config.model.init(&device),
            engine,
            shuffle: StdRng::seed_from_u64(config.seed),
            config,
            device,
            epochs_done: 0,
        })
    }

    /// A trainer whose model starts from a `.safetensors` file's weights (see [`crate::weights`]),
    /// trained for `epochs_done` epochs already. A file that does not fit the config's model is
    /// an error.
    pub fn from_weights(config: TrainingConfig, bytes: &[u8], epochs_done: usize, device: &Device) -> Result<Self, TrainError> {
        let mut trainer = Self::new(config, device)?;
        trainer.model = crate::weights::from_safetensors(&trainer.config.model, bytes, &trainer.device)?;
        trainer.epochs_done = epochs_done;
        Ok(trainer)
    }

    /// The model's weights as a `.safetensors` file; its header names `record`'s experiment and
    /// source.
    pub async fn weights(&self, record: &RunRecord) -> Result<Vec<u8>, TrainError> {
        let mut metadata: std::collections::HashMap<String, String> =
            [("experiment".to_string(), record.experiment.to_string()), ("source".to_string(), record.source.clone())].into();
        if let Some(from) = &record.started_from {
            metadata.insert("started_from".into(), from.clone());
        }
        crate::weights::to_safetensors(&self.model(), &self.config.model, metadata).await
    }

    /// The record of this trainer's run so far: its settings and `history`, no map.
    pub fn record(&self, experiment: crate::Experiment, source: String, history: Vec<EpochRecord>) -> RunRecord {
        let config = &self.config;
        RunRecord {
            experiment,
            epochs: self.epochs_done,
            batch_size: config.batch_size,
            learning_rate: config.learning_rate,
            seed: config.seed,
            source,
            history,
            started_from: None,
            map: Vec::new(),
        }
    }

    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// The trained model for inference: no autodiff, no input corruption.
    pub fn model(&self) -> Autoencoder {
        self.model.valid()
    }

    /// Images `indices` as the model sees them in training (noisy or masked for those
    /// experiments) and its reconstructions of them: two `[n, 784]` tensors in [0, 1].
    pub fn reconstruct(&self, images: &LabeledImages, indices: &[usize]) -> (Tensor<2>, Tensor<2>) {
        let seen = self.training_input(batch_tensor(images, indices, &self.device)).inner();
        let reconstruction = self.through(seen.clone(), Layers::All);
        (seen, reconstruction)
    }

    /// Images `indices` as the model sees them in training (the corrupted input only for the
    /// denoising and dropout models), with their originals and reconstructions, read back.
    pub async fn reconstructions(&self, images: &LabeledImages, indices: &[usize]) -> Result<Reconstructions, TrainError> {
        let (seen, outputs) = self.reconstruct(images, indices);
        let mut values = read_values([seen, outputs]).await?.into_iter();
        let (seen, outputs) = (values.next().unwrap_or_default(), values.next().unwrap_or_default());
        let corrupted = self.corruption().corrupts();
        Ok(Reconstructions { originals: images.batch_pixels(indices), seen: corrupted.then_some(seen), outputs })
    }

    /// `images` as the model sees them in training: corrupted as its experiment says.
    fn training_input(&self, images: Tensor<2>) -> Tensor<2> {
        match self.engine {
            Engine::Autodiff(_) => self.model.corrupt(images),
            _ => crate::autoencoder::corrupt(images, self.corruption()),
        }
    }

    /// The corruption the model trains with.
    fn corruption(&self) -> Corruption {
        let model = &self.config.model;
        Corruption { noise_stddev: model.noise_stddev, dropout_rate: model.dropout_rate }
    }

    /// The codes of images given as pixel values in [0, 1], 784 per image: `[n, code size]`.
    pub fn encode_pixels(&self, pixels: &[f32]) -> Tensor<2> {
        self.through(self.rows(pixels, IMAGE_PIXELS), Layers::Encoder)
    }

    /// Images decoded from codes (`code size` values each): `[n, 784]` in [0, 1].
    pub fn decode_codes(&self, codes: &[f32]) -> Tensor<2> {
        self.through(self.rows(codes, self.config.model.code_size()), Layers::Decoder)
    }

    /// Images given as pixels, corrupted as `corruption` says (whatever the model was trained
    /// with), and the model's reconstructions of them: two `[n, 784]` tensors.
    pub fn reconstruct_corrupted(&self, pixels: &[f32], corruption: Corruption) -> (Tensor<2>, Tensor<2>) {
        let seen = crate::autoencoder::corrupt(self.rows(pixels, IMAGE_PIXELS), corruption.clamped());
        (seen.clone(), self.through(seen, Layers::All))
    }

    /// Plain values as a `[values / width, width]` tensor on the inference device.
    fn rows(&self, values: &[f32], width: usize) -> Tensor<2> {
        let rows = values.len() / width.max(1);
        Tensor::from_data(TensorData::new(values[..rows * width].to_vec(), [rows, width]), &self.inner_device())
    }

    /// The codes of `images`, `[n, code size]`, encoded in chunks to bound memory.
    pub fn encode(&self, images: &LabeledImages) -> Tensor<2> {
        let indices: Vec<usize> = (0..images.len()).collect();
        let chunks = indices.chunks(EVALUATION_CHUNK).map(|chunk| self.through(batch_tensor(images, chunk, &self.inner_device()), Layers::Encoder));
        Tensor::cat(chunks.collect(), 0)
    }

    /// `x` through the model's `layers` (the decoder ends in the sigmoid), never corrupted: on
    /// the CPU step's kernels with that engine, with burn's ops otherwise.
    fn through(&self, x: Tensor<2>, layers: Layers) -> Tensor<2> {
        if let Engine::Cpu { weights, .. } = &self.engine {
            let loaded;
            let cpu = match weights {
                Some(weights) => weights,
                None => {
                    loaded = CpuModel::of(&self.model);
                    &loaded
                }
            };
            let range = match layers {
                Layers::Encoder => cpu.encoder(),
                Layers::Decoder => cpu.decoder(),
                Layers::All => cpu.encoder().start..cpu.decoder().end,
            };
            let rows = x.dims()[0];
            let out = cpu.forward(&cpu_step::host(x), range);
            let width = out.len() / rows.max(1);
            return Tensor::from_data(TensorData::new(out, [rows, width]), &self.inner_device());
        }
        let model = self.model();
        match layers {
            Layers::Encoder => model.encode(x),
            Layers::Decoder => model.decode(x),
            Layers::All => model.forward(x),
        }
    }

    /// Gives the model the CPU step's weights, if steps have changed them.
    fn sync_model(&mut self) {
        if let Engine::Cpu { weights: Some(weights), stale, .. } = &mut self.engine
            && *stale
        {
            self.model = weights.write_to(self.model.clone(), &self.device);
            *stale = false;
        }
    }

    /// Goes back to `model`, dropping the CPU step's copy of the weights.
    fn restore(&mut self, model: Autoencoder) {
        self.model = model;
        if let Engine::Cpu { weights, stale, .. } = &mut self.engine {
            (*weights, *stale) = (None, false);
        }
    }

    fn inner_device(&self) -> Device {
        self.device.clone().inner()
    }

    /// Trains for the remaining epochs of the config; returns their records.
    pub async fn fit(
        &mut self,
        train: &LabeledImages,
        test: &LabeledImages,
        on_event: &mut impl AsyncFnMut(TrainEvent) -> ControlFlow<()>,
    ) -> Result<Vec<EpochRecord>, TrainError> {
        let mut records = Vec::new();
        while self.epochs_done < self.config.epochs {
            records.push(self.run_epoch(train, test, on_event).await?);
        }
        Ok(records)
    }

    /// One pass over `train` in a fresh shuffled order, then validation on `test`.
    ///
    /// `on_event` hears progress every `report_every` steps and the epoch's record; returning
    /// `ControlFlow::Break` stops training before the next step ([`TrainError::Stopped`]).
    pub async fn run_epoch(
        &mut self,
        train: &LabeledImages,
        test: &LabeledImages,
        on_event: &mut impl AsyncFnMut(TrainEvent) -> ControlFlow<()>,
    ) -> Result<EpochRecord, TrainError> {
        if train.is_empty() {
            return Err(TrainError::NoData("training"));
        }
        let start = Instant::now();
        let epoch = self.epochs_done + 1;
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut self.shuffle);
        let batch_size = self.config.batch_size;
        let steps = order.len().div_ceil(batch_size);
        let batches = self.batches(train, order);

        let mut sums = self.zero_sums();
        let mut running = (0.0, 0.0);
        // The weights of the last finished epoch, kept if this one diverges. Modules are
        // immutable values that share their tensors: nothing is copied now, but holding them
        // keeps one extra set of weights (0.9 MB) alive through the epoch.
        let last_good = self.model.clone();
        for index in 0..steps {
            let first = index * batch_size;
            self.step(batches.batch(first, batch_size.min(train.len() - first)), &mut sums);

            let step = index + 1;
            if step % self.config.report_every == 0 || step == steps {
                running = sums.means(step).await?;
                if !(running.0 < DIVERGED_LOSS) {
                    self.restore(last_good);
                    return Err(TrainError::Diverged { epoch, step, loss: running.0 });
                }
                let progress = Progress { epoch, step, steps, loss: running.0, rounded_accuracy: running.1 };
                if on_event(TrainEvent::Progress(progress)).await.is_break() {
                    self.sync_model();
                    return Err(TrainError::Stopped);
                }
            }
        }
        self.sync_model();

        let validation = self.validate(test, epoch, on_event).await?;
        self.epochs_done = epoch;
        let record = EpochRecord {
            epoch,
            loss: running.0,
            rounded_accuracy: running.1,
            val_loss: validation.loss,
            val_rounded_accuracy: validation.rounded_accuracy,
            seconds: start.elapsed().as_secs_f64(),
        };
        // Stopping here still keeps the finished epoch.
        let _ = on_event(TrainEvent::Epoch(record.clone())).await;
        Ok(record)
    }

    /// Mean loss and rounded accuracy over `test`, a chunk at a time: each chunk is reported, so a
    /// page can draw between them. Read back once at the end.
    async fn validate(
        &mut self,
        test: &LabeledImages,
        epoch: usize,
        on_event: &mut impl AsyncFnMut(TrainEvent) -> ControlFlow<()>,
    ) -> Result<Evaluation, TrainError> {
        if test.is_empty() {
            return Err(TrainError::NoData("validation"));
        }
        #[cfg(feature = "wgpu")]
        if let Engine::Fused { test: cached, .. } = &mut self.engine {
            let images = fused::DeviceImages::cached(cached, test, &self.device);
            return validate_fused(&self.model, &images, test.len(), &self.device, epoch, on_event).await;
        }
        if let Engine::Cpu { weights, .. } = &mut self.engine {
            let cpu = weights.get_or_insert_with(|| CpuModel::of(&self.model));
            let mut sums = cpu_step::Sums::default();
            for first in (0..test.len()).step_by(EVALUATION_CHUNK) {
                let done = (first + EVALUATION_CHUNK).min(test.len());
                let part = cpu.evaluate(&test.batch_pixels(&(first..done).collect::<Vec<_>>()));
                (sums.loss, sums.accuracy) = (sums.loss + part.loss, sums.accuracy + part.accuracy);
                if on_event(TrainEvent::Validating { epoch, done, total: test.len() }).await.is_break() {
                    return Err(TrainError::Stopped);
                }
            }
            let count = test.len() as f64;
            return Ok(Evaluation { loss: sums.loss / count, rounded_accuracy: sums.accuracy / count });
        }
        let (model, device) = (self.model(), self.inner_device());
        let indices: Vec<usize> = (0..test.len()).collect();
        let mut loss_sum = Tensor::<1>::zeros([1], &device);
        let mut accuracy_sum = Tensor::<1>::zeros([1], &device);
        for chunk in indices.chunks(EVALUATION_CHUNK) {
            let batch = batch_tensor(test, chunk, &device);
            let logits = model.forward_logits(batch.clone());
            let weight = chunk.len() as f64;
            let accuracy = rounded_accuracy_of_logits(batch.clone(), logits.clone());
            loss_sum = loss_sum + binary_cross_entropy_with_logits(logits, batch).mul_scalar(weight);
            accuracy_sum = accuracy_sum + accuracy.mul_scalar(weight);
            let done = chunk[chunk.len() - 1] + 1;
            if on_event(TrainEvent::Validating { epoch, done, total: test.len() }).await.is_break() {
                return Err(TrainError::Stopped);
            }
        }
        let (loss, rounded_accuracy) = read_means(&loss_sum, &accuracy_sum, test.len()).await?;
        Ok(Evaluation { loss, rounded_accuracy })
    }

    /// `steps` training steps on `images`, batch after batch from the first image (wrapping
    /// around), and nothing else: no report, no read back, no wait for the device. For
    /// benchmarks, which wait for the device themselves.
    pub fn train_steps(&mut self, images: &LabeledImages, steps: usize) -> Result<(), TrainError> {
        let batch_size = self.config.batch_size;
        let whole_batches = images.len() / batch_size;
        if whole_batches == 0 {
            return Err(TrainError::NoData("training"));
        }
        let batches = self.batches(images, (0..images.len()).collect());
        let mut sums = self.zero_sums();
        for step in 0..steps {
            self.step(batches.batch(step % whole_batches * batch_size, batch_size), &mut sums);
        }
        self.sync_model();
        Ok(())
    }

    /// Where an epoch's batches of `images` in `order` come from: host memory, or (fused
    /// engine) the images on the device, uploaded once.
    fn batches<'a>(&mut self, images: &'a LabeledImages, order: Vec<usize>) -> Batches<'a> {
        #[cfg(feature = "wgpu")]
        if let Engine::Fused { train, .. } = &mut self.engine {
            let uploaded = fused::DeviceImages::cached(train, images, &self.device);
            return Batches::Device { images: uploaded, order: fused::DeviceOrder::new(&order, &self.device) };
        }
        Batches::Host { images, order, device: self.device.clone() }
    }

    /// Running sums for an epoch of this trainer's steps.
    fn zero_sums(&self) -> RunningSums {
        match self.engine {
            Engine::Autodiff(_) => {
                let device = self.inner_device();
                RunningSums::Pair { loss: Tensor::zeros([1], &device), accuracy: Tensor::zeros([1], &device) }
            }
            Engine::Cpu { .. } => RunningSums::Host { loss: 0.0, accuracy: 0.0 },
            #[cfg(feature = "wgpu")]
            Engine::Fused { .. } => RunningSums::Rows(fused::zero_sums(self.config.batch_size, &self.device)),
        }
    }

    /// One SGD step on a batch; adds its loss and rounded accuracy to `sums`, on the device.
    fn step(&mut self, batch: Tensor<2>, sums: &mut RunningSums) {
        match (&self.engine, sums) {
            (Engine::Autodiff(_), RunningSums::Pair { loss, accuracy }) => {
                let (batch_loss, batch_accuracy) = self.timed_step(batch, &mut |_| ());
                *loss = loss.clone() + batch_loss;
                *accuracy = accuracy.clone() + batch_accuracy;
            }
            (Engine::Cpu { .. }, RunningSums::Host { loss, accuracy }) => {
                let rows = batch.dims()[0] as f64;
                let batch_sums = self.cpu_step(batch, |_| ());
                *loss += batch_sums.loss / rows;
                *accuracy += batch_sums.accuracy / rows;
            }
            #[cfg(feature = "wgpu")]
            (Engine::Fused { .. }, RunningSums::Rows(rows)) => {
                let input = self.training_input(batch.clone());
                self.model = fused::train_step(&self.model, input, batch, self.config.learning_rate, rows);
            }
            _ => unreachable!("running sums come from the trainer's own engine"),
        }
    }

    /// A step of the CPU engine on `batch`: its loss and accuracy sums (see
    /// [`CpuModel::train_step`]), `lap` called as each part ends.
    fn cpu_step(&mut self, batch: Tensor<2>, lap: impl FnMut(cpu_step::Phase)) -> cpu_step::Sums {
        let corruption = self.corruption();
        let target = cpu_step::host(batch);
        let Engine::Cpu { weights, stale, noise } = &mut self.engine else { unreachable!("a CPU step on the CPU engine") };
        let input = corruption.corrupts().then(|| cpu_step::corrupt(&target, corruption, noise));
        let cpu = weights.get_or_insert_with(|| CpuModel::of(&self.model));
        *stale = true;
        cpu.train_step(input.as_deref().unwrap_or(&target), &target, self.config.learning_rate as f32, lap)
    }

    /// An autodiff step, calling `lap` as each phase ends (for [`Self::profile`]); returns the
    /// batch's loss and rounded accuracy, still on the device.
    fn timed_step(&mut self, batch: Tensor<2>, lap: &mut impl FnMut(StepPhase)) -> (Tensor<1>, Tensor<1>) {
        let Engine::Autodiff(optimizer) = &mut self.engine else { unreachable!("an autodiff step on the autodiff engine") };
        let logits = self.model.forward_logits(batch.clone());
        lap(StepPhase::Forward);
        let loss = binary_cross_entropy_with_logits(logits.clone(), batch.clone());
        let accuracy = rounded_accuracy_of_logits(batch.inner(), logits.inner());
        lap(StepPhase::Loss);
        let gradients = loss.backward();
        lap(StepPhase::Backward);
        let grads = GradientsParams::from_grads(gradients, &self.model);
        self.model = optimizer.step(self.config.learning_rate, self.model.clone(), grads);
        lap(StepPhase::Update);
        (loss.inner(), accuracy)
    }

    /// Where an autodiff training step's time goes: `steps` steps on the first images of
    /// `train`, each phase timed on its own. Meaningful on a synchronous backend (the CPU); on a
    /// GPU the phases only queue work, and the fused engine has no phases to time.
    pub fn profile(&mut self, train: &LabeledImages, steps: usize) -> Result<StepProfile, TrainError> {
        #[cfg(feature = "wgpu")]
        if matches!(self.engine, Engine::Fused { .. }) {
            return Err(TrainError::Settings("the phase profile is of a CPU step: the fused GPU step's phases only queue work"));
        }
        let batch = self.config.batch_size;
        let mut profile = StepProfile { steps, ..StepProfile::default() };
        for step in 0..steps {
            let first = (step * batch) % train.len().saturating_sub(batch).max(1);
            let indices: Vec<usize> = (first..(first + batch).min(train.len())).collect();
            let mut lap_start = Instant::now();
            let tensor = batch_tensor(train, &indices, &self.device);
            profile.upload += lap_start.elapsed().as_secs_f64();
            lap_start = Instant::now();
            let mut lap = |phase| {
                let seconds = lap_start.elapsed().as_secs_f64();
                *match phase {
                    StepPhase::Forward => &mut profile.forward,
                    StepPhase::Loss => &mut profile.loss,
                    StepPhase::Backward => &mut profile.backward,
                    StepPhase::Update => &mut profile.update,
                } += seconds;
                lap_start = Instant::now();
            };
            if matches!(self.engine, Engine::Cpu { .. }) {
                self.cpu_step(tensor, &mut lap);
            } else {
                self.timed_step(tensor, &mut lap);
            }
        }
        self.sync_model();
        Ok(profile)
    }
}

impl Engine {
    /// The engine `choice` gives on `device`, and the device its model lives on.
    fn for_device(config: &TrainingConfig, device: &Device) -> (Self, Device) {
        let choice = config.engine;
        #[cfg(feature = "wgpu")]
        if choice == StepEngine::Auto && fused::supports(device) {
            return (Engine::Fused { train: None, test: None }, device.clone().inner());
        }
        if choice == StepEngine::Auto && cpu_step::supports(device) {
            let noise = SmallRng::seed_from_u64(config.seed);
            return (Engine::Cpu { weights: None, stale: false, noise }, device.clone().inner());
        }
        (Engine::Autodiff(SgdConfig::new().init()), device.clone().autodiff())
    }
}

/// Which of the model's layers [`Trainer::through`] runs.
#[derive(Clone, Copy)]
enum Layers {
    Encoder,
    Decoder,
    All,
}

/// Where an epoch's batches come from (see [`Trainer::batches`]).
enum Batches<'a> {
    /// Uploaded from host memory, a batch per step.
    Host { images: &'a LabeledImages, order: Vec<usize>, device: Device },
    /// Gathered on the device by a kernel, from images and an order uploaded once.
    #[cfg(feature = "wgpu")]
    Device { images: fused::DeviceImages, order: fused::DeviceOrder },
}

impl Batches<'_> {
    /// The `rows` images from place `first` of the order, as a `[rows, 784]` tensor in [0, 1].
    fn batch(&self, first: usize, rows: usize) -> Tensor<2> {
        match self {
            Self::Host { images, order, device } => batch_tensor(images, &order[first..first + rows], device),
            #[cfg(feature = "wgpu")]
            Self::Device { images, order } => order.gather(images, first, rows),
        }
    }
}

/// An epoch's running sums of its batches' mean loss and rounded accuracy, kept on the device.
enum RunningSums {
    /// One value each, added to by tensor ops after each step (autodiff engine).
    Pair { loss: Tensor<1>, accuracy: Tensor<1> },
    /// Host numbers, added to after each step (CPU engine).
    Host { loss: f64, accuracy: f64 },
    /// `[batch size, 2]`: the loss kernel adds each image's share to its row (fused engine).
    #[cfg(feature = "wgpu")]
    Rows(Tensor<2>),
}

impl RunningSums {
    /// The sums divided by `count`, read back in one round trip.
    async fn means(&self, count: usize) -> Result<(f64, f64), TrainError> {
        match self {
            Self::Pair { loss, accuracy } => read_means(loss, accuracy, count).await,
            Self::Host { loss, accuracy } => Ok((loss / count as f64, accuracy / count as f64)),
            #[cfg(feature = "wgpu")]
            Self::Rows(rows) => {
                let values = read_values([fused::sum_rows(rows)]).await?;
                let total = |i: usize| f64::from(values[0][i]) / count as f64;
                Ok((total(0), total(1)))
            }
        }
    }
}

/// [`Trainer::validate`] with the fused kernels: the test images on the device, a forward pass
/// and a loss kernel per chunk.
#[cfg(feature = "wgpu")]
async fn validate_fused(
    model: &Autoencoder,
    images: &fused::DeviceImages,
    count: usize,
    device: &Device,
    epoch: usize,
    on_event: &mut impl AsyncFnMut(TrainEvent) -> ControlFlow<()>,
) -> Result<Evaluation, TrainError> {
    let order = fused::DeviceOrder::new(&(0..count).collect::<Vec<_>>(), device);
    let sums = RunningSums::Rows(fused::zero_sums(EVALUATION_CHUNK, device));
    let RunningSums::Rows(rows) = &sums else { unreachable!() };
    for first in (0..count).step_by(EVALUATION_CHUNK) {
        let done = (first + EVALUATION_CHUNK).min(count);
        fused::evaluate(model, order.gather(images, first, done - first), rows);
        if on_event(TrainEvent::Validating { epoch, done, total: count }).await.is_break() {
            return Err(TrainError::Stopped);
        }
    }
    let (loss, rounded_accuracy) = sums.means(count).await?;
    Ok(Evaluation { loss, rounded_accuracy })
}

/// Seconds per training step of the stacked model at `batch_size` on `device` with `engine`: `steps` timed
/// steps after `warmup` untimed ones (which compile a GPU's kernels), each group ending with a
/// read so that work a GPU has only queued is counted. Synthetic pixels: the speed does not
/// depend on them. For choosing the faster backend on the visitor's machine.
pub async fn seconds_per_step(device: &Device, engine: StepEngine, batch_size: usize, warmup: usize, steps: usize) -> Result<f64, TrainError> {
    let config = TrainingConfig::new(crate::AutoencoderConfig::of(crate::Experiment::Stacked)).with_batch_size(batch_size).with_engine(engine);
    let mut trainer = Trainer::new(config, device)?;
    let pixels = (0..batch_size * IMAGE_PIXELS).map(|i| (i * 37 % 256) as u8).collect();
    let images = LabeledImages::new(pixels, vec![0; batch_size]).expect("one label per image");
    let batches = trainer.batches(&images, (0..batch_size).collect());
    let run = async |trainer: &mut Trainer, count: usize| {
        let mut sums = trainer.zero_sums();
        for _ in 0..count {
            trainer.step(batches.batch(0, batch_size), &mut sums);
        }
        sums.means(count.max(1)).await.map(drop)
    };
    run(&mut trainer, warmup).await?;
    let start = Instant::now();
    run(&mut trainer, steps.max(1)).await?;
    Ok(start.elapsed().as_secs_f64() / steps.max(1) as f64)
}

/// Seconds spent in each phase of `steps` training steps ([`Trainer::profile`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StepProfile {
    pub steps: usize,
    /// Gathering the batch's pixels and making the input tensor.
    pub upload: f64,
    /// The forward pass.
    pub forward: f64,
    /// The loss and the batch's rounded accuracy (the CPU step: and the loss's gradient).
    pub loss: f64,
    /// Back-propagation (the CPU step: the gradients at the layers' inputs).
    pub backward: f64,
    /// The SGD update of every parameter (the CPU step: the weight-gradient products, which
    /// write the updated weights).
    pub update: f64,
}

/// A running loss above this (or not a number) stops training as diverged. Binary cross-entropy
/// of an untrained model is about 0.7; a hundred means the logits have blown up.
const DIVERGED_LOSS: f64 = 100.0;

/// Images per forward pass outside training: large enough to keep the device busy, small
/// enough for a phone's memory.
const EVALUATION_CHUNK: usize = 1000;

/// Images `indices` as a `[batch, 784]` tensor of floats in [0, 1].
pub fn batch_tensor(images: &LabeledImages, indices: &[usize], device: &Device) -> Tensor<2> {
    let data = TensorData::new(images.batch_pixels(indices), [indices.len(), IMAGE_PIXELS]);
    Tensor::from_data(data, device)
}

/// Reads two device-side sums in one round trip and divides them by `count`.
async fn read_means(a: &Tensor<1>, b: &Tensor<1>, count: usize) -> Result<(f64, f64), TrainError> {
    let values = read_values([a.clone(), b.clone()]).await?;
    let mean = |v: &[f32]| f64::from(v[0]) / count as f64;
    Ok((mean(&values[0]), mean(&values[1])))
}

/// A backend's multi-line error report ("X\nCaused by:\n  Y\nBacktrace: …") as "X: Y".
fn one_line(report: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for line in report.lines().map(str::trim) {
        if line.is_empty() || line == "Caused by:" || line.starts_with("Backtrace") || line.starts_with("No backtrace") {
            continue;
        }
        if parts.last() != Some(&line) && !parts.contains(&line) {
            parts.push(line);
        }
    }
    parts.join(": ")
}

/// Reads tensors back as floats in one round trip, without blocking: a blocking read panics on
/// WebGPU in the browser.
pub async fn read_values<const D: usize>(tensors: impl IntoIterator<Item = Tensor<D>>) -> Result<Vec<Vec<f32>>, TrainError> {
    let device_error = |e: &dyn std::fmt::Debug| TrainError::Device(one_line(&format!("{e:?}")));
    let transaction = tensors.into_iter().fold(Transaction::default(), |t, tensor| t.register(tensor));
    let data = transaction.execute_async().await.map_err(|e| device_error(&e))?;
    data.into_iter().map(|d| d.try_to_vec::<f32>().map_err(|e| device_error(&e))).collect()
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn device_reports_read_as_one_line() {
        let report = "The device is poisoned\nCaused by:\n  The device is poisoned\nCaused by:\n  Destroyed: Device was destroyed.\nBacktrace:\nNo backtrace available";
        assert_eq!(one_line(report), "The device is poisoned: Destroyed: Device was destroyed.");
        assert_eq!(one_line("plain"), "plain");
    }
}
