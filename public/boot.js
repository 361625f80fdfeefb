// Starts the page's WebAssembly. A file of its own rather than Trunk's inline script, so the
// page runs under a Content-Security-Policy that allows no inline script (see the README).
// Trunk writes the hashed file names into this script tag's data attributes (Trunk.toml).
const { js, wasm } = document.querySelector("script[data-wasm]").dataset;
const { default: init } = await import(js);
const instance = await init({ module_or_path: wasm });
// As Trunk's own start-up script does: tools (and the tests) can find the module's memory.
dispatchEvent(new CustomEvent("TrunkApplicationStarted", { detail: { wasm: instance } }));
