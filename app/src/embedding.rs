//! The embedding's compute side: the trained model's codes of the test images go to the t-SNE
//! worker, whose maps come back as plain points.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Float32Array, Object, Reflect};
use model::{TrainError, Trainer, read_values};
use model::data::LabeledImages;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{MessageEvent, Worker};

use crate::browser::{describe, sleep};

/// Built by trunk from `src/bin/tsne_worker.rs` (see index.html); relative, for any sub-path.
const WORKER_URL: &str = "./tsne_worker_loader.js";

/// A t-SNE map as it forms: x, y per test image.
#[derive(Clone, Debug, PartialEq)]
pub struct MapState {
    pub points: Vec<f32>,
    pub iteration: usize,
    pub total: usize,
    /// Time in the worker so far.
    pub seconds: f64,
    pub done: bool,
    /// Shipped with pretrained weights rather than computed here.
    pub precomputed: bool,
}

/// The codes of every test image, read back without blocking, a chunk at a time so the page
/// can draw in between.
pub async fn codes(trainer: &Trainer, test: &LabeledImages) -> Result<(Vec<f32>, usize), TrainError> {
    const CHUNK: usize = 1000;
    let mut values = Vec::new();
    let mut dim = 0;
    for start in (0..test.len()).step_by(CHUNK) {
        let codes = trainer.encode(&test.slice(start..start + CHUNK));
        dim = codes.dims()[1];
        values.extend(read_values([codes]).await?.concat());
        sleep(0).await;
    }
    Ok((values, dim))
}

/// One t-SNE worker at a time: a new map replaces (terminates) the one being computed.
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
    /// Starts mapping `codes` (`dim` values per image); `on_update` hears each step.
    pub fn map(&self, codes: &[f32], dim: usize, on_update: impl Fn(Result<MapState, String>) + 'static) {
        self.stop();
        let worker = match Worker::new(WORKER_URL) {
            Ok(worker) => worker,
            Err(e) => return on_update(Err(format!("could not start the t-SNE worker: {}", describe(&e)))),
        };
        let request = Object::new();
        let _ = Reflect::set(&request, &"run".into(), &1.into());
        let _ = Reflect::set(&request, &"dim".into(), &dim.into());
        let _ = Reflect::set(&request, &"codes".into(), &Float32Array::from(codes));
        let on_update = Rc::new(on_update);
        let (sender, report) = (worker.clone(), on_update.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let reply = event.data();
            // The worker says when it listens; only then does the request go.
            if Reflect::get(&reply, &"kind".into()).ok().and_then(|k| k.as_string()).as_deref() == Some("ready") {
                if let Err(e) = sender.post_message(&request) {
                    report(Err(format!("could not reach the t-SNE worker: {}", describe(&e))));
                }
                return;
            }
            report(read_reply(&reply));
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

fn read_reply(reply: &JsValue) -> Result<MapState, String> {
    let field = |key: &str| Reflect::get(reply, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let number = |key: &str| field(key).as_f64().unwrap_or(0.0) as usize;
    match field("kind").as_string().as_deref() {
        Some(kind @ ("progress" | "done")) => Ok(MapState {
            points: field("map").dyn_into::<Float32Array>().map(|a| a.to_vec()).unwrap_or_default(),
            iteration: number("iteration"),
            total: number("total"),
            seconds: field("seconds").as_f64().unwrap_or(0.0),
            done: kind == "done",
            precomputed: false,
        }),
        Some("error") => Err(field("message").as_string().unwrap_or_else(|| "t-SNE failed".into())),
        _ => Err("the t-SNE worker sent something unexpected".into()),
    }
}
