//! The page's engine: a dedicated worker (trunk builds it from index.html's `data-type="worker"`
//! link) that owns burn, the device (WebGPU or the CPU), the data and every model, and answers
//! the shell's messages (`protocol::messages`). The page's thread only draws; whatever the
//! engine computes, for however long, never holds up a frame there.

// Natively this crate only builds (the workspace's tests); its modules run in a browser.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[cfg(target_arch = "wasm32")]
mod backend;
#[cfg(target_arch = "wasm32")]
mod constructors;
#[cfg(target_arch = "wasm32")]
mod data;
#[cfg(target_arch = "wasm32")]
mod engine;
#[cfg(target_arch = "wasm32")]
mod models;
#[cfg(target_arch = "wasm32")]
mod run;
#[cfg(target_arch = "wasm32")]
mod tools;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
fn main() {
    use std::rc::Rc;

    use protocol::messages::{FromEngine, VERSION};

    constructors::run();
    // A panic leaves the module unusable: the shell hears why, then sees the worker fail.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        worker::post(&FromEngine::Crashed { why: info.to_string() });
    }));
    let engine = Rc::new(engine::Engine::default());
    worker::listen(move |message| engine.receive(message));
    worker::post(&FromEngine::Ready { version: VERSION });
}

/// The engine only runs in a browser, as a worker.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the engine runs in a browser as the page's worker: use `trunk serve` (see the README)");
}
