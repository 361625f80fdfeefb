//! The module's static constructors, run once, at start-up.
//!
//! cubecl's IR crate (pliron) registers thousands of items with `inventory`, whose registrations
//! are wasm static constructors. In a module built from a binary, the wasm linker runs all
//! constructors at the start of every exported function unless the module runs them itself, and
//! every callback from JavaScript (each resolved promise, timer, frame and event) is an export
//! call: each one re-ran about 4,900 constructors, a third of the page's main-thread time while
//! training on WebGPU. Calling them once from `main` turns that off (see inventory's docs).

unsafe extern "C" {
    fn __wasm_call_ctors();
}

/// Runs the constructors; call it once, first thing in `main`.
pub fn run() {
    // SAFETY: the linker-made function only runs the registered constructors, which do not
    // depend on anything `main` sets up; `main` runs once per instance.
    unsafe { __wasm_call_ctors() }
}
