//! The worker's side of the browser, as plain functions: messages to and from the shell,
//! yielding, timers, fetching. A leaf: it imports nothing from the rest of the engine.

use js_sys::{Array, Promise, Uint8Array};
use protocol::messages::{FromEngine, ToEngine};
use protocol::wire;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent, Response};

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Sends `message` to the shell: encoded into a fresh buffer, which is handed over, not copied.
pub fn post(message: &FromEngine) {
    let bytes = Uint8Array::from(&wire::encode(message)[..]);
    let _ = scope().post_message_with_transfer(&bytes, &Array::of1(&bytes.buffer()));
}

/// Calls `receive` with each message from the shell; one that cannot be read is reported.
pub fn listen(receive: impl Fn(ToEngine) + 'static) {
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let bytes = event.data().dyn_into::<Uint8Array>().map(|array| array.to_vec()).unwrap_or_default();
        match wire::decode::<ToEngine>(&bytes) {
            Ok(message) => receive(message),
            Err(e) => post(&FromEngine::Crashed { why: format!("the engine got a message it cannot read: {e}") }),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
}

/// Lets the worker take the shell's messages (Pause, Stop, other requests), then resumes. A
/// message to itself, not a timer: browsers hold nested zero-delay timers back by 4 ms.
pub async fn yield_now() {
    let channel = match MessageChannel::new() {
        Ok(channel) => channel,
        Err(_) => return sleep(0).await,
    };
    let port = channel.port1();
    let promise = Promise::new(&mut |resolve, _| port.set_onmessage(Some(&resolve)));
    let _ = channel.port2().post_message(&JsValue::NULL);
    let _ = JsFuture::from(promise).await;
    port.close();
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// Milliseconds on the wall clock.
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// A JS error as text.
pub fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// Why a file did not come.
#[derive(Debug)]
pub enum FetchError {
    /// No answer at all: the network is down (or the host unreachable) and this device keeps
    /// no copy (the page's service worker answers with its copy when it has one).
    Unreachable { url: String },
    /// An answer that is not the file (an HTTP error), or a body that could not be read.
    Failed(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable { url } => write!(f, "could not load {url}: no network, and this device keeps no copy of it"),
            Self::Failed(why) => f.write_str(why),
        }
    }
}

impl From<FetchError> for String {
    fn from(error: FetchError) -> Self {
        error.to_string()
    }
}

/// The body of `url` (relative to the page's folder, where the worker's script is), or why not.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, FetchError> {
    let failed = |why: String| FetchError::Failed(format!("could not load {url}: {why}"));
    // fetch() rejects only when no response came at all: for a file of the page's own folder,
    // that is the network.
    let response = JsFuture::from(scope().fetch_with_str(url)).await.map_err(|_| FetchError::Unreachable { url: url.to_string() })?;
    let response: Response = response.dyn_into().map_err(|_| failed("not a response".into()))?;
    if !response.ok() {
        return Err(failed(format!("HTTP {} {}", response.status(), response.status_text())));
    }
    let buffer = response.array_buffer().map_err(|e| failed(describe(&e)))?;
    let buffer = JsFuture::from(buffer).await.map_err(|e| failed(describe(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The worker's `navigator`, where WebGPU lives in a dedicated worker.
pub fn navigator() -> JsValue {
    js_sys::Reflect::get(&scope(), &"navigator".into()).unwrap_or(JsValue::UNDEFINED)
}
