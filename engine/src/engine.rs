//! The engine's state and what it does with each message: the backend, the data, the models,
//! the run under way, and the results worth keeping (the latest codes, the pixels' lessons).
//! Each request runs as its own task and is answered when done; a run's events go out as they
//! happen.

use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::pin;
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::{self, Either};
use futures::lock::Mutex;
use model::data::LabeledImages;
use model::{TrainError, Trainer};
use protocol::messages::{
    BackendChoice, BackendKind, BackendNote, BackendWhy, Codes, DataPart, FromEngine, Lessons, ModelRef, Reply, Request, RequestId,
    RunEnd, RunError, RunEvent, RunSettings, ToEngine,
};
use wasm_bindgen_futures::spawn_local;

use crate::backend::Backends;
use crate::data::Data;
use crate::models::Models;
use crate::run::{Run, RunControl, training_config};
use crate::tools;
use crate::worker::{post, sleep};

/// Where runs train when the shell has not said (a first request that needs a device).
const DEFAULT_BACKEND: (BackendChoice, usize) = (BackendChoice::Auto, 32);

#[derive(Default)]
pub struct Engine {
    backends: Backends,
    data: Data,
    models: Models,
    /// The controls of runs under way, by the request that started them.
    runs: RefCell<HashMap<RequestId, RunControl>>,
    /// One run at a time: a run started right after a Stop waits for the stopped one's end.
    training: Mutex<()>,
    /// The codes of the model asked about last.
    codes: RefCell<Option<(ModelRef, Rc<Codes>)>>,
    /// One encoding at a time: a second asker for the same model's codes finds them made.
    encoding: Mutex<()>,
    pixel_lessons: RefCell<Option<Lessons>>,
    /// The backend the shell asked for, used by whatever first needs a device.
    wanted_backend: RefCell<Option<(BackendChoice, usize)>>,
}

impl Engine {
    pub fn receive(self: &Rc<Self>, message: ToEngine) {
        match message {
            ToEngine::Request { id, request } => {
                let engine = self.clone();
                spawn_local(async move {
                    let reply = engine.answer(id, request).await;
                    post(&FromEngine::Done { id, reply });
                });
            }
            ToEngine::Control { run, control } => {
                if let Some(run) = self.runs.borrow().get(&run) {
                    run.apply(control);
                }
            }
            ToEngine::Forget(id) => self.models.forget(id),
        }
    }

    async fn answer(self: &Rc<Self>, id: RequestId, request: Request) -> Result<Reply, String> {
        match request {
            Request::StartBackend { choice, batch_size } => {
                self.wanted_backend.borrow_mut().get_or_insert((choice, batch_size));
                self.backends.get(choice, batch_size).await;
                Ok(Reply::Done)
            }
            Request::TestImages => Ok(Reply::TestImages((*self.data.test().await?).clone())),
            Request::FetchTraining => {
                self.data.fetch_training(None, || {}).await;
                Ok(Reply::Done)
            }
            Request::Retry => {
                self.data.retry().await;
                Ok(Reply::Done)
            }
            Request::Train(settings) => Ok(Reply::RunEnded(self.train(id, settings).await)),
            Request::Load { shape, bytes } => {
                let device = self.device().await;
                self.models.load(shape, &bytes, &device).map(Reply::Model)
            }
            Request::Weights { model, record } => {
                let trainer = self.model(model).await?;
                trainer.weights(&record).await.map(Reply::Bytes).map_err(|e| e.to_string())
            }
            Request::Reconstruct { model, indices } => {
                let (trainer, test) = (self.model(model).await?, self.data.test().await?);
                check_indices(&indices, &test)?;
                trainer.reconstructions(&test, &indices).await.map(Reply::Reconstructions).map_err(|e| e.to_string())
            }
            Request::Codes { model } => {
                Ok(Reply::Codes((*self.codes(model).await?).clone()))
            }
            Request::CodeLessons { model } => {
                let (codes, test) = (self.codes(model).await?, self.data.test().await?);
                Ok(Reply::Lessons(tools::lessons(&codes.values, codes.dim, test.labels()).await))
            }
            Request::PixelLessons => {
                if let Some(lessons) = self.pixel_lessons.borrow().clone() {
                    return Ok(Reply::Lessons(lessons));
                }
                let lessons = tools::pixel_lessons(&*self.data.test().await?).await;
                *self.pixel_lessons.borrow_mut() = Some(lessons.clone());
                Ok(Reply::Lessons(lessons))
            }
            Request::Nearest { model, index, count } => {
                let codes = self.codes(model).await?;
                Ok(Reply::Indices(model::neighbours::nearest_to(&codes.values, codes.dim, index, count)))
            }
            Request::Look { model, pixels } => {
                let trainer = self.model(model).await?;
                tools::look(&trainer, pixels).await.map(Reply::Look).map_err(|e| e.to_string())
            }
            Request::Corrupt { model, pixels, corruption } => {
                let trainer = self.model(model).await?;
                tools::corrupted(&trainer, &pixels, corruption).await.map(Reply::Corrupted).map_err(|e| e.to_string())
            }
            Request::Walk { model, from, to, steps } => {
                let trainer = self.model(model).await?;
                tools::walk(&trainer, &from, &to, steps).await.map(Reply::Images).map_err(|e| e.to_string())
            }
            Request::Draw { model, pixels, map } => {
                let trainer = self.model(model).await?;
                let look = tools::look(&trainer, pixels).await.map_err(|e| e.to_string())?;
                let placement = match map {
                    Some(map) => tools::place(&*self.codes(model).await?, &map, &look.code),
                    None => None,
                };
                Ok(Reply::Drawn { look, placement })
            }
            Request::Measure { model, indices } => {
                let (trainer, test) = (self.model(model).await?, self.data.test().await?);
                check_indices(&indices, &test)?;
                let measured = async {
                    let reconstructions = trainer.reconstructions(&test, &indices).await?;
                    let code_accuracy = tools::code_accuracy(&trainer, &test).await?;
                    Ok::<_, TrainError>(Reply::Measured { reconstructions, code_accuracy })
                };
                measured.await.map_err(|e| e.to_string())
            }
        }
    }

    /// The device runs train on and models load to: the backend the shell asked for, else the
    /// automatic choice.
    async fn device(&self) -> model::burn::prelude::Device {
        let (choice, batch_size) = self.wanted_backend.borrow().unwrap_or(DEFAULT_BACKEND);
        self.backends.get(choice, batch_size).await.device
    }

    async fn model(&self, model: ModelRef) -> Result<Rc<Trainer>, String> {
        let device = self.device().await;
        self.models.get(model, &device).await
    }

    /// The codes of every test image by `model`, kept for the next question about it.
    async fn codes(&self, model: ModelRef) -> Result<Rc<Codes>, String> {
        let _one_at_a_time = self.encoding.lock().await;
        if let Some((of, codes)) = self.codes.borrow().as_ref()
            && *of == model
        {
            return Ok(codes.clone());
        }
        let (trainer, test) = (self.model(model).await?, self.data.test().await?);
        let codes = Rc::new(tools::codes(&trainer, &test).await.map_err(|e| e.to_string())?);
        *self.codes.borrow_mut() = Some((model, codes.clone()));
        Ok(codes)
    }

    /// Trains a model as `settings` say once its data is in: the test set and the first
    /// training shard it needs (the rest stream in meanwhile; each epoch uses what is in).
    async fn train(self: &Rc<Self>, id: RequestId, settings: RunSettings) -> RunEnd {
        // Taking Stop from the start: a run still waiting for its data can be called off.
        let control = RunControl::new(settings.sample.clone());
        self.runs.borrow_mut().insert(id, control.clone());
        let end = self.run(id, settings, control).await;
        self.runs.borrow_mut().remove(&id);
        self.backends.run_ended();
        end
    }

    async fn run(self: &Rc<Self>, id: RequestId, settings: RunSettings, control: RunControl) -> RunEnd {
        let not_started = |error| RunEnd { model: None, epochs_done: 0, result: Err(error) };
        let Some(_one_run) = unless_stopped(&control, self.training.lock()).await else { return not_started(RunError::Stopped) };
        let (choice, batch_size) = self.wanted_backend.borrow().unwrap_or(DEFAULT_BACKEND);
        let backend = self.backends.get(choice, batch_size).await;
        match unless_stopped(&control, self.data.test()).await {
            None => return not_started(RunError::Stopped),
            Some(Err(_)) => return not_started(RunError::NoData(DataPart::Test)),
            Some(Ok(_)) => {}
        }
        match unless_stopped(&control, self.first_training_shard(settings.train_limit)).await {
            None => return not_started(RunError::Stopped),
            Some(false) => return not_started(RunError::NoData(DataPart::Training)),
            Some(true) => {}
        }
        // A software adapter is timed now that the data is in, while this run trains on the CPU.
        if let Some(race) = self.backends.take_race() {
            let engine = self.clone();
            spawn_local(async move {
                let (device, note) = race.run().await;
                engine.backends.settle(device, note, !engine.runs.borrow().is_empty());
            });
        }
        let trainer = match self.trainer(&settings, backend.kind, &backend.device).await {
            Ok(trainer) => trainer,
            Err(error) => return not_started(error),
        };
        let emit = |event: RunEvent| {
            if let RunEvent::MovedToCpu { kept, why } = &event {
                let why = BackendWhy::MovedToCpu { why: why.clone(), kept: *kept };
                self.backends.set(model::burn::prelude::Device::flex(), BackendNote { kind: BackendKind::Cpu, why });
            }
            post(&FromEngine::Run { id, event });
        };
        emit(RunEvent::Started);
        let mut run = Run::new(trainer, backend.kind, control);
        let result = run.train(&settings, &|| self.data.snapshot(), &emit).await;
        let trainer = run.into_trainer();
        let epochs_done = trainer.epochs_done();
        let model = (epochs_done > 0).then(|| self.models.add(trainer));
        RunEnd { model, epochs_done, result: result.map_err(|e| run_error(&e)) }
    }

    /// Starts fetching the training shards a run on the first `limit` images needs, and waits
    /// for the first of them: false if none arrived.
    async fn first_training_shard(self: &Rc<Self>, limit: Option<usize>) -> bool {
        let (arrived, first) = oneshot::channel();
        let mut arrived = Some(arrived);
        let engine = self.clone();
        spawn_local(async move {
            engine.data.fetch_training(limit, move || {
                if let Some(arrived) = arrived.take() {
                    let _ = arrived.send(());
                }
            })
            .await;
        });
        // The sender is dropped unanswered when no shard arrives.
        first.await.is_ok()
    }

    /// A fresh trainer for `settings`, or one that starts from the weights of the model
    /// `settings.start_from` names.
    async fn trainer(&self, settings: &RunSettings, kind: BackendKind, device: &model::burn::prelude::Device) -> Result<Trainer, RunError> {
        let config = training_config(settings, kind);
        let refused = |e: TrainError| RunError::Refused(e.to_string());
        match settings.start_from {
            None => Trainer::new(config, device).map_err(refused),
            Some(from) => {
                let start = self.models.get(from, device).await.map_err(RunError::Refused)?;
                let bytes = model::weights::to_safetensors(&start.model(), &start.config().model, Default::default()).await.map_err(refused)?;
                Trainer::from_weights(config, &bytes, 0, device).map_err(refused)
            }
        }
    }
}

/// `work`'s result, unless the run is stopped first (a slow network must not hold a run the
/// visitor called off; what `work` fetches goes on in the background).
async fn unless_stopped<T>(control: &RunControl, work: impl Future<Output = T>) -> Option<T> {
    let stop = async {
        while !control.stopped() {
            sleep(100).await;
        }
    };
    match future::select(pin!(work), pin!(stop)).await {
        Either::Left((done, _)) => Some(done),
        Either::Right(_) => None,
    }
}

/// Every index names a test image.
fn check_indices(indices: &[usize], test: &LabeledImages) -> Result<(), String> {
    match indices.iter().find(|&&i| i >= test.len()) {
        Some(i) => Err(format!("there is no test image {i}: the test set has {}", test.len())),
        None => Ok(()),
    }
}

/// A model error as the facts the page words in its language.
fn run_error(error: &TrainError) -> RunError {
    match error {
        TrainError::Stopped => RunError::Stopped,
        TrainError::NoData("test") => RunError::NoData(DataPart::Test),
        TrainError::NoData(_) => RunError::NoData(DataPart::Training),
        TrainError::Diverged { epoch, step, loss } => RunError::Diverged { epoch: *epoch, step: *step, loss: *loss },
        TrainError::Device(why) => RunError::Device(why.clone()),
        other => RunError::Other(other.to_string()),
    }
}
