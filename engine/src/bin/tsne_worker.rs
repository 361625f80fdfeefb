//! The t-SNE worker: maps the test codes to 2-D, posting the map every few iterations so the
//! page can animate it. A worker of its own, apart from the engine: t-SNE runs for seconds
//! without a break, and a new map (another model, another perplexity) ends it by terminating
//! the worker.
//!
//! Once started it posts `{ kind: "ready" }` (a request sent earlier would be lost while the
//! module loads). Request: `{ run, codes: Float32Array, dim, perplexity }`. Replies: `{ run,
//! kind: "progress" | "done", iteration, total, seconds, map: Float32Array }` or `{ run, kind:
//! "error", message }`.

#[cfg(target_arch = "wasm32")]
#[path = "../constructors.rs"]
mod constructors;

#[cfg(target_arch = "wasm32")]
fn main() {
    use js_sys::{Float32Array, Object, Reflect};
    use model::embedding::{TsneConfig, tsne};
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    /// Iterations between progress posts: smooth enough to watch, cheap to copy.
    const POST_EVERY: usize = 10;

    constructors::run();
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let poster = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let request = event.data();
        let field = |key: &str| Reflect::get(&request, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let run = field("run");
        let reply = |kind: &str, fields: &[(&str, JsValue)]| {
            let message = Object::new();
            let _ = Reflect::set(&message, &"run".into(), &run);
            let _ = Reflect::set(&message, &"kind".into(), &kind.into());
            for (key, value) in fields {
                let _ = Reflect::set(&message, &(*key).into(), value);
            }
            let _ = poster.post_message(&message);
        };
        let codes = field("codes").dyn_into::<Float32Array>().map(|a| a.to_vec()).unwrap_or_default();
        let dim = field("dim").as_f64().unwrap_or(0.0) as usize;
        if dim == 0 || codes.is_empty() || codes.len() % dim != 0 || codes.iter().any(|v| !v.is_finite()) {
            reply("error", &[("message", "the codes to map are empty or not finite".into())]);
            return;
        }
        let start = js_sys::Date::now();
        let seconds = move || (js_sys::Date::now() - start) / 1000.0;
        let perplexity = field("perplexity").as_f64().map_or(TsneConfig::default().perplexity, |p| p as f32);
        let config = TsneConfig { perplexity, ..TsneConfig::default() };
        let total = config.iterations;
        let post = |kind: &str, iteration: usize, map: &[f32]| {
            let map = Float32Array::from(map);
            reply(kind, &[("iteration", iteration.into()), ("total", total.into()), ("seconds", seconds().into()), ("map", map.into())]);
        };
        let map = tsne(&codes, dim, &config, |iteration, map| {
            if iteration % POST_EVERY == 0 {
                post("progress", iteration, map);
            }
        });
        post("done", total, &map);
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let ready = Object::new();
    let _ = Reflect::set(&ready, &"kind".into(), &"ready".into());
    let _ = scope.post_message(&ready);
}

/// The worker only runs in a browser.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
