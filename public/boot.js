// Starts the page's WebAssembly. A file of its own rather than Trunk's inline script, so the
// page runs under a Content-Security-Policy that allows no inline script (see the README).
// Trunk writes the hashed file names into this script tag's data attributes (Trunk.toml).
const { js, wasm } = document.querySelector("script[data-wasm]").dataset;
const shell = import(js);
// The skeleton in index.html is painted, and the browser has timed that paint, before the
// shell's first task (mounting the page, which replaces the skeleton) takes the thread, however
// fast the network. A skeleton replaced before its paint is timed never counts as painted, and
// the page's largest paint would wait for the shell. At most half a second: a browser that
// times no paints, or a hidden tab (no frames, nothing to paint), waits no longer.
const painted = new Promise((done) => {
  setTimeout(done, 500);
  const types = globalThis.PerformanceObserver?.supportedEntryTypes ?? [];
  const type = ["largest-contentful-paint", "paint"].find((t) => types.includes(t));
  if (document.visibilityState !== "visible" || !type) return done();
  try {
    new PerformanceObserver((_, observer) => {
      observer.disconnect();
      done();
    }).observe({ type, buffered: true });
  } catch {
    done();
  }
});
await painted;
const { default: init } = await shell;
const instance = await init({ module_or_path: wasm });
// As Trunk's own start-up script does: tools (and the tests) can find the module's memory.
dispatchEvent(new CustomEvent("TrunkApplicationStarted", { detail: { wasm: instance } }));
