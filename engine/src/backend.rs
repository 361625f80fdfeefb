//! Choosing where training runs: WebGPU when a few timed steps at the run's batch size show it
//! is faster here than the CPU step compiled to wasm, else the CPU. WebGPU is probed on
//! the worker's own `navigator`. A software adapter (seconds of kernel compiles) is timed only
//! once a run's data is in, while the CPU already trains. Each choice is pushed to the shell
//! with why, and with both figures when timed.

use std::cell::RefCell;

use futures::lock::Mutex;
use js_sys::{Promise, Reflect};
use model::burn::prelude::Device;
use protocol::messages::{BackendChoice, BackendKind, BackendNote, BackendWhy, FromEngine};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::worker::{describe, navigator, post};

/// The engine trains with the fused step on WebGPU (19 kernel launches a step where burn's
/// autodiff launches 109) and with the model crate's CPU step on the CPU (see the README's
/// benchmarks). The race below times this same engine.
pub const STEP_ENGINE: model::StepEngine = model::StepEngine::Auto;

/// Where runs train now.
#[derive(Clone)]
pub struct Backend {
    pub device: Device,
    pub kind: BackendKind,
}

#[derive(Default)]
pub struct Backends {
    current: RefCell<Option<Backend>>,
    /// A software adapter still to be timed against the CPU.
    race: RefCell<Option<Race>>,
    /// A race's winner that came while a run trained on the CPU: the next run's backend.
    next: RefCell<Option<(Device, BackendNote)>>,
    starting: Mutex<()>,
}

impl Backends {
    /// Where runs train, started as `choice` says for runs at `batch_size` if no backend is yet.
    pub async fn get(&self, choice: BackendChoice, batch_size: usize) -> Backend {
        let _one_start = self.starting.lock().await;
        if let Some(backend) = self.current.borrow().clone() {
            return backend;
        }
        let start = start(choice, batch_size).await;
        *self.race.borrow_mut() = start.later;
        self.set(start.device, start.note)
    }

    /// Takes the backend, and tells the shell why.
    pub fn set(&self, device: Device, note: BackendNote) -> Backend {
        let backend = Backend { device, kind: note.kind };
        *self.current.borrow_mut() = Some(backend.clone());
        post(&FromEngine::Backend(note));
        backend
    }

    /// The race a software adapter still waits for, if any.
    pub fn take_race(&self) -> Option<Race> {
        self.race.borrow_mut().take()
    }

    /// Takes a race's result. A GPU that won while a run trains waits for the next run: the
    /// run keeps its CPU, and the note says so.
    pub fn settle(&self, device: Device, note: BackendNote, run_going: bool) {
        if note.kind == BackendKind::WebGpu && run_going {
            let why = BackendWhy::StaysOnCpu(Box::new(note.why.clone()));
            post(&FromEngine::Backend(BackendNote { kind: BackendKind::Cpu, why }));
            *self.next.borrow_mut() = Some((device, note));
            return;
        }
        self.set(device, note);
    }

    /// A run ended: a GPU that won during it takes over.
    pub fn run_ended(&self) {
        if let Some((device, note)) = self.next.borrow_mut().take() {
            self.set(device, note);
        }
    }
}

/// What the browser says about its WebGPU adapter.
struct Adapter {
    description: String,
    software: bool,
}

/// The backend to start with, and for a software adapter the race still to run.
struct Start {
    device: Device,
    note: BackendNote,
    later: Option<Race>,
}

/// WebGPU (on the adapter described) and the CPU, to be timed against each other.
pub struct Race {
    description: String,
    batch_size: usize,
}

fn cpu_note(why: BackendWhy) -> BackendNote {
    BackendNote { kind: BackendKind::Cpu, why }
}

impl Race {
    /// Starts WebGPU and times both at the run's batch size: the faster backend and what was
    /// measured.
    pub async fn run(self) -> (Device, BackendNote) {
        let Race { description, batch_size } = self;
        let cpu = |why| (Device::flex(), cpu_note(why));
        let gpu = match Device::wgpu_options().init_async().await {
            Ok(device) => device,
            Err(error) => return cpu(BackendWhy::StartFailed { why: error.to_string() }),
        };
        match race(&gpu, batch_size).await {
            Ok((gpu_ms, cpu_ms)) => {
                let why = BackendWhy::Timed { batch: batch_size, gpu_ms, cpu_ms, adapter: description };
                if gpu_ms <= cpu_ms { (gpu, BackendNote { kind: BackendKind::WebGpu, why }) } else { cpu(why) }
            }
            Err(error) => cpu(BackendWhy::TestFailed { why: error.to_string() }),
        }
    }
}

/// Picks and starts a backend for runs at `batch_size`. Never fails: the CPU backend is always
/// there.
async fn start(choice: BackendChoice, batch_size: usize) -> Start {
    let cpu = |why| Start { device: Device::flex(), note: cpu_note(why), later: None };
    if choice == BackendChoice::Cpu {
        return cpu(BackendWhy::ChosenCpu);
    }
    let adapter = match probe_webgpu().await {
        Ok(adapter) => adapter,
        Err(why) => return cpu(why),
    };
    if choice == BackendChoice::WebGpu {
        return match Device::wgpu_options().init_async().await {
            Ok(gpu) => Start {
                device: gpu,
                note: BackendNote { kind: BackendKind::WebGpu, why: BackendWhy::ChosenWebGpu { adapter: adapter.description } },
                later: None,
            },
            Err(error) => cpu(BackendWhy::StartFailed { why: error.to_string() }),
        };
    }
    // A small or busy GPU can lose to the CPU on this small model: time both.
    let race = Race { description: adapter.description.clone(), batch_size };
    if adapter.software {
        return Start { later: Some(race), ..cpu(BackendWhy::SoftwareAdapter { adapter: adapter.description }) };
    }
    let (device, note) = race.run().await;
    Start { device, note, later: None }
}

/// Milliseconds per training step at `batch_size` on the GPU and on the CPU, as runs train.
async fn race(gpu: &Device, batch_size: usize) -> Result<(f64, f64), model::TrainError> {
    // The GPU's warm-up steps compile its kernels; the CPU needs few.
    let gpu_seconds = model::seconds_per_step(gpu, STEP_ENGINE, batch_size, 5, 20).await?;
    let cpu_seconds = model::seconds_per_step(&Device::flex(), STEP_ENGINE, batch_size, 2, 10).await?;
    Ok((gpu_seconds * 1e3, cpu_seconds * 1e3))
}

/// Asks the worker's browser for a WebGPU adapter without starting a device.
async fn probe_webgpu() -> Result<Adapter, BackendWhy> {
    let failed = |why: String| BackendWhy::ProbeFailed { why };
    let gpu = Reflect::get(&navigator(), &"gpu".into()).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err(BackendWhy::NoWebGpu);
    }
    let request = call0(&gpu, "requestAdapter").map_err(|_| failed("WebGPU refused to look for an adapter".into()))?;
    let adapter = JsFuture::from(request.unchecked_into::<Promise>())
        .await
        .map_err(|e| failed(format!("WebGPU adapter request failed: {}", describe(&e))))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(failed("WebGPU found no usable adapter".into()));
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let text = |key: &str| Reflect::get(&info, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let fields = [text("vendor"), text("architecture"), text("device"), text("description")];
    let description = fields.iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" ");
    let fallback = Reflect::get(&info, &"isFallbackAdapter".into()).ok().and_then(|v| v.as_bool())
        .or_else(|| Reflect::get(&adapter, &"isFallbackAdapter".into()).ok().and_then(|v| v.as_bool()))
        .unwrap_or(false);
    let lower = description.to_ascii_lowercase();
    let software = fallback || ["swiftshader", "llvmpipe", "software", "warp"].iter().any(|s| lower.contains(s));
    let description = if description.is_empty() { "unnamed adapter".into() } else { description };
    Ok(Adapter { description, software })
}

fn call0(target: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    let function: js_sys::Function = Reflect::get(target, &method.into())?.dyn_into()?;
    function.call0(target)
}
