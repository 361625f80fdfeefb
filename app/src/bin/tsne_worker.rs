//! The t-SNE worker: maps the test codes to 2-D off the page's thread, posting the map every
//! few iterations so the page can animate it while staying responsive.
//!
//! Also the raw pixels' lessons, which take a second or more: their PCA map and how often the
//! nearest image shares the class.
//!
//! Once started it posts `{ kind: "ready" }` (a request sent earlier would be lost while the
//! module loads). Requests: `{ run, codes: Float32Array, dim, perplexity }` (t-SNE), or
//! `{ run, task: "pixels", pixels: Uint8Array, dim, labels: Uint8Array, rows }`. Replies: `{ run, kind:
//! "progress" | "done", iteration, total, seconds, map: Float32Array }`, `{ run, kind:
//! "lessons", map, accuracy, pca_seconds }` or `{ run, kind: "error", message }`.

#[cfg(target_arch = "wasm32")]
#[path = "../constructors.rs"]
mod constructors;

#[cfg(target_arch = "wasm32")]
fn main() {
    use js_sys::{Float32Array, Object, Reflect, Uint8Array};
    use model::embedding::{TsneConfig, pca_projection, tsne};
    use model::neighbours::nearest_neighbour_accuracy;
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
        // Codes come as floats; raw pixels as bytes, scaled as the model sees them.
        let codes = match field("pixels").dyn_into::<Uint8Array>() {
            Ok(bytes) => bytes.to_vec().into_iter().map(|b| f32::from(b) / 255.0).collect(),
            Err(_) => field("codes").dyn_into::<Float32Array>().map(|a| a.to_vec()).unwrap_or_default(),
        };
        let dim = field("dim").as_f64().unwrap_or(0.0) as usize;
        if dim == 0 || codes.is_empty() || codes.len() % dim != 0 || codes.iter().any(|v| !v.is_finite()) {
            reply("error", &[("message", "the codes to map are empty or not finite".into())]);
            return;
        }
        let start = js_sys::Date::now();
        let seconds = move || (js_sys::Date::now() - start) / 1000.0;
        if field("task").as_string().as_deref() == Some("pixels") {
            let labels = field("labels").dyn_into::<Uint8Array>().map(|a| a.to_vec()).unwrap_or_default();
            let rows = field("rows").as_f64().unwrap_or(0.0) as usize;
            let map = pca_projection(&codes, dim);
            let pca_seconds = seconds();
            let accuracy = nearest_neighbour_accuracy(&codes, dim, &labels, rows);
            let fields = [("map", Float32Array::from(&map[..]).into()), ("accuracy", accuracy.into()), ("pca_seconds", pca_seconds.into())];
            reply("lessons", &fields);
            return;
        }
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
