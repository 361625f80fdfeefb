//! The t-SNE worker's client: the shown model's codes of the test images (from the engine) go
//! to the worker, whose maps come back as plain points while they form. A worker of its own,
//! so a new map can end the one being computed by terminating it.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Float32Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{MessageEvent, Worker};

use crate::browser::describe;
use crate::settings::MapMethod;

/// Built by trunk from `src/bin/tsne_worker.rs` (see index.html); relative, for any sub-path.
const WORKER_URL: &str = "./tsne_worker_loader.js";

/// A map as it forms: x, y per test image.
#[derive(Clone, Debug, PartialEq)]
pub struct MapState {
    pub method: MapMethod,
    /// t-SNE's, for t-SNE maps.
    pub perplexity: f32,
    pub points: Vec<f32>,
    pub iteration: usize,
    pub total: usize,
    /// Time in the worker so far.
    pub seconds: f64,
    pub done: bool,
    /// Shipped with pretrained weights rather than computed here.
    pub precomputed: bool,
}

impl MapState {
    /// A map computed at once (PCA): done, timed.
    pub fn finished(method: MapMethod, points: Vec<f32>, seconds: f64) -> Self {
        Self { method, perplexity: 0.0, points, iteration: 1, total: 1, seconds, done: true, precomputed: false }
    }
}

/// One worker task at a time: a new one replaces (terminates) the one being computed.
#[derive(Clone, Default)]
pub struct Mapper {
    current: Rc<RefCell<Option<Running>>>,
}

/// A worker and the handlers that must live as long as it does.
struct Running {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Mapper {
    /// Starts mapping `codes` (`dim` values per image) with t-SNE; `on_update` hears each step.
    pub fn map(&self, codes: &[f32], dim: usize, perplexity: f32, on_update: impl Fn(Result<MapState, String>) + 'static) {
        let request = Object::new();
        let _ = Reflect::set(&request, &"dim".into(), &dim.into());
        let _ = Reflect::set(&request, &"perplexity".into(), &perplexity.into());
        let _ = Reflect::set(&request, &"codes".into(), &Float32Array::from(codes));
        self.start(request, move |reply| on_update(reply.and_then(|r| read_reply(&r, perplexity))));
    }

    /// Starts a worker on `request`; `on_update` hears each of its replies.
    fn start(&self, request: Object, on_update: impl Fn(Result<JsValue, String>) + 'static) {
        self.stop();
        let worker = match Worker::new(WORKER_URL) {
            Ok(worker) => worker,
            Err(e) => return on_update(Err(format!("could not start the t-SNE worker: {}", describe(&e)))),
        };
        let _ = Reflect::set(&request, &"run".into(), &1.into());
        let on_update = Rc::new(on_update);
        let (sender, report) = (worker.clone(), on_update.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let reply = event.data();
            match field(&reply, "kind").as_string().as_deref() {
                // The worker says when it listens; only then does the request go.
                Some("ready") => {
                    if let Err(e) = sender.post_message(&request) {
                        report(Err(format!("could not reach the t-SNE worker: {}", describe(&e))));
                    }
                }
                Some("error") => report(Err(field(&reply, "message").as_string().unwrap_or_else(|| "the worker failed".into()))),
                _ => report(Ok(reply)),
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            on_update(Err(format!("the t-SNE worker failed: {}", event.message())));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        *self.current.borrow_mut() = Some(Running { worker, _on_message: on_message, _on_error: on_error });
    }

    /// Ends the map being computed, if any.
    pub fn stop(&self) {
        if let Some(running) = self.current.borrow_mut().take() {
            // Chromium fires an error event at a worker terminated while its script still loads,
            // after `terminate` returns: unhook the handlers so nothing calls the closures dropped here.
            running.worker.set_onmessage(None);
            running.worker.set_onerror(None);
            running.worker.terminate();
        }
    }
}

fn field(reply: &JsValue, key: &str) -> JsValue {
    Reflect::get(reply, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn points(reply: &JsValue) -> Vec<f32> {
    field(reply, "map").dyn_into::<Float32Array>().map(|a| a.to_vec()).unwrap_or_default()
}

fn read_reply(reply: &JsValue, perplexity: f32) -> Result<MapState, String> {
    let field = |key: &str| field(reply, key);
    let number = |key: &str| field(key).as_f64().unwrap_or(0.0) as usize;
    match field("kind").as_string().as_deref() {
        Some(kind @ ("progress" | "done")) => Ok(MapState {
            method: MapMethod::Tsne,
            perplexity,
            points: points(reply),
            iteration: number("iteration"),
            total: number("total"),
            seconds: field("seconds").as_f64().unwrap_or(0.0),
            done: kind == "done",
            precomputed: false,
        }),
        _ => Err("the t-SNE worker sent something unexpected".into()),
    }
}
