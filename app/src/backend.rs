//! Choosing where training runs: WebGPU when the browser has a real GPU behind it and a few
//! timed steps show it is faster here, else burn's CPU backend compiled to wasm. The visitor is
//! told which and why.

use js_sys::{Promise, Reflect};
use model::burn::prelude::Device;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::browser::describe;
use crate::settings::BackendChoice;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

/// What the page tells the visitor about the backend.
#[derive(Clone, Debug, PartialEq)]
pub struct BackendInfo {
    pub kind: BackendKind,
    pub why: String,
}

impl BackendKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::WebGpu => "WebGPU",
            Self::Cpu => "CPU (WebAssembly)",
        }
    }
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

/// Picks and starts a backend for runs at `batch_size`. Never fails: the CPU backend is always
/// there.
pub async fn start(choice: BackendChoice, batch_size: usize) -> (Device, BackendInfo) {
    let cpu = |why: String| (Device::flex(), BackendInfo { kind: BackendKind::Cpu, why });
    if choice == BackendChoice::Cpu {
        return cpu("chosen with backend=cpu in the URL".into());
    }
    let adapter = match probe_webgpu().await {
        Ok(adapter) => adapter,
        Err(why) => return cpu(format!("{why}, so training runs on the CPU")),
    };
    if adapter.software && choice == BackendChoice::Auto {
        return cpu(format!(
            "this browser's WebGPU adapter is a software renderer ({}), far slower than the CPU; \
             add backend=webgpu to the URL to use it anyway",
            adapter.description
        ));
    }
    let gpu = match Device::wgpu_options().init_async().await {
        Ok(device) => device,
        Err(error) => return cpu(format!("WebGPU failed to start ({error}), so training runs on the CPU")),
    };
    if choice == BackendChoice::WebGpu {
        let why = format!("chosen with backend=webgpu in the URL ({})", adapter.description);
        return (gpu, BackendInfo { kind: BackendKind::WebGpu, why });
    }
    // A small or busy GPU can lose to the CPU on this small model: time both.
    match race(&gpu, batch_size).await {
        Ok((gpu_ms, cpu_ms)) if gpu_ms <= cpu_ms => {
            let why = format!(
                "timed here at batch {batch_size}: {gpu_ms:.1} ms per training step on the GPU ({}), {cpu_ms:.1} ms on the CPU",
                adapter.description
            );
            (gpu, BackendInfo { kind: BackendKind::WebGpu, why })
        }
        Ok((gpu_ms, cpu_ms)) => cpu(format!(
            "timed here at batch {batch_size}: {cpu_ms:.1} ms per training step on the CPU, {gpu_ms:.1} ms on the GPU ({}); \
             add backend=webgpu to the URL to use the GPU anyway",
            adapter.description
        )),
        Err(error) => cpu(format!("WebGPU failed a test run ({error}), so training runs on the CPU")),
    }
}

/// Milliseconds per training step at `batch_size` on the GPU and on the CPU, as the page trains.
async fn race(gpu: &Device, batch_size: usize) -> Result<(f64, f64), model::TrainError> {
    // The GPU's warm-up steps compile its kernels; the CPU needs few.
    let gpu_seconds = model::seconds_per_step(gpu, STEP_ENGINE, batch_size, 5, 20).await?;
    let cpu_seconds = model::seconds_per_step(&Device::flex(), STEP_ENGINE, batch_size, 2, 10).await?;
    Ok((gpu_seconds * 1e3, cpu_seconds * 1e3))
}

/// Asks the browser for a WebGPU adapter without starting a device.
async fn probe_webgpu() -> Result<Adapter, String> {
    let navigator = web_sys::window().ok_or("no window")?.navigator();
    let gpu = Reflect::get(&navigator, &"gpu".into()).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no WebGPU (or the page is not served over https)".into());
    }
    let request = call0(&gpu, "requestAdapter").map_err(|_| "WebGPU refused to look for an adapter")?;
    let adapter = JsFuture::from(request.unchecked_into::<Promise>())
        .await
        .map_err(|e| format!("WebGPU adapter request failed: {}", describe(&e)))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("WebGPU found no usable adapter".into());
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
