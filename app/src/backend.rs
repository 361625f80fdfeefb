//! Choosing where training runs: WebGPU when a few timed steps at the run's batch size show it
//! is faster here than burn's CPU backend compiled to wasm, else the CPU. A software adapter is
//! timed too, but only once the page is usable on the CPU. The visitor is told which and why,
//! with both figures.

use js_sys::{Promise, Reflect};
use model::burn::prelude::Device;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::browser::describe;
use crate::settings::BackendChoice;
use crate::text::Message;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

/// What the page tells the visitor about the backend.
#[derive(Clone, Debug, PartialEq)]
pub struct BackendInfo {
    pub kind: BackendKind,
    pub why: Message,
}


/// The page trains with the fused step on WebGPU (burn's autodiff on the CPU): 19 kernel launches
/// a step where burn's autodiff launches 109, and about 5x faster than TensorFlow.js's webgpu
/// step per batch-32 step in Chromium on SwiftShader (see the README's benchmarks). The race
/// below times this same engine.
pub const STEP_ENGINE: model::StepEngine = model::StepEngine::Auto;

/// What the browser says about its WebGPU adapter.
struct Adapter {
    description: String,
    software: bool,
}

/// The backend the page starts with, and for a software adapter the race still to run.
pub struct Start {
    pub device: Device,
    pub info: BackendInfo,
    /// A software adapter's warm-up (kernel compiles) takes seconds: it is timed once the page
    /// is usable on the CPU, rather than before.
    pub later: Option<Race>,
}

/// WebGPU (on the adapter described) and the CPU, to be timed against each other.
pub struct Race {
    description: String,
    batch_size: usize,
}

impl Race {
    /// Starts WebGPU and times both at the run's batch size: the faster backend and what was
    /// measured.
    pub async fn run(self) -> (Device, BackendInfo) {
        let Race { description, batch_size } = self;
        let cpu = |why: Message| (Device::flex(), BackendInfo { kind: BackendKind::Cpu, why });
        let gpu = match Device::wgpu_options().init_async().await {
            Ok(device) => device,
            Err(error) => return cpu(Message::BackendStartFailed { why: error.to_string() }),
        };
        match race(&gpu, batch_size).await {
            Ok((gpu_ms, cpu_ms)) => {
                let why = Message::BackendTimed { batch: batch_size, gpu_ms, cpu_ms, adapter: description };
                if gpu_ms <= cpu_ms { (gpu, BackendInfo { kind: BackendKind::WebGpu, why }) } else { cpu(why) }
            }
            Err(error) => cpu(Message::BackendTestFailed { why: error.to_string() }),
        }
    }
}

/// Picks and starts a backend for runs at `batch_size`. Never fails: the CPU backend is always
/// there.
pub async fn start(choice: BackendChoice, batch_size: usize) -> Start {
    let cpu = |why: Message| Start { device: Device::flex(), info: BackendInfo { kind: BackendKind::Cpu, why }, later: None };
    if choice == BackendChoice::Cpu {
        return cpu(Message::ChosenCpu);
    }
    let adapter = match probe_webgpu().await {
        Ok(adapter) => adapter,
        Err(why) => return cpu(why),
    };
    if choice == BackendChoice::WebGpu {
        let gpu = match Device::wgpu_options().init_async().await {
            Ok(device) => device,
            Err(error) => return cpu(Message::BackendStartFailed { why: error.to_string() }),
        };
        let why = Message::ChosenWebGpu { adapter: adapter.description };
        return Start { device: gpu, info: BackendInfo { kind: BackendKind::WebGpu, why }, later: None };
    }
    // A small or busy GPU can lose to the CPU on this small model: time both.
    let race = Race { description: adapter.description.clone(), batch_size };
    if adapter.software {
        let mut start = cpu(Message::SoftwareAdapter { adapter: adapter.description });
        start.later = Some(race);
        return start;
    }
    let (device, info) = race.run().await;
    Start { device, info, later: None }
}

/// Milliseconds per training step at `batch_size` on the GPU and on the CPU, as the page trains.
async fn race(gpu: &Device, batch_size: usize) -> Result<(f64, f64), model::TrainError> {
    // The GPU's warm-up steps compile its kernels; the CPU needs few.
    let gpu_seconds = model::seconds_per_step(gpu, STEP_ENGINE, batch_size, 5, 20).await?;
    let cpu_seconds = model::seconds_per_step(&Device::flex(), STEP_ENGINE, batch_size, 2, 10).await?;
    Ok((gpu_seconds * 1e3, cpu_seconds * 1e3))
}

/// Asks the browser for a WebGPU adapter without starting a device.
async fn probe_webgpu() -> Result<Adapter, Message> {
    let failed = |why: String| Message::ProbeFailed { why };
    let navigator = web_sys::window().ok_or_else(|| failed("no window".into()))?.navigator();
    let gpu = Reflect::get(&navigator, &"gpu".into()).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err(Message::NoWebGpu);
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
