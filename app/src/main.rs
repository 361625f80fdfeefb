//! The page's shell: it draws, on the page's thread, what the engine (a dedicated worker,
//! `engine/`) computes: the chapter's four autoencoders learning Fashion-MNIST. No burn and no
//! tensors here; plain numbers and pixels arrive as `protocol` messages.

// Natively only the unit tests use these modules.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

// The catalogues in locales/, compiled by build.rs: `Locale`, `t!`, `td_string!`, ...
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
mod text;

// Plain data and rules, built natively too for their unit tests.
mod figures;
mod raster;
mod settings;
mod state;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod charts;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod embedding;
#[cfg(target_arch = "wasm32")]
mod engine;
#[cfg(target_arch = "wasm32")]
mod page;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

/// The page only runs in a browser; natively this crate builds for its unit tests.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app runs in a browser: use `trunk serve` (see the README)");
}
