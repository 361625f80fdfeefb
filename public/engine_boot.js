// Starts the page's engine in its dedicated worker: trunk's no-modules glue, then its wasm.
// A file of its own rather than trunk's loader shim, so that wasm that fails to download or
// compile is an uncaught error in the worker, which the page hears as the worker's `error`
// event (a rejected promise alone would leave the page waiting for the engine forever).
importScripts('./engine.js');
wasm_bindgen({ module_or_path: './engine_bg.wasm' }).then(
  // As the page's boot.js does: tools (and the tests) can find the module's memory.
  (exports) => { self.engine = exports; },
  (error) => setTimeout(() => { throw error; }),
);
