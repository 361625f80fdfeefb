// Starts the page's WebAssembly. A file of its own rather than Trunk's inline script, so the
// page runs under a Content-Security-Policy that allows no inline script (see the README).
// Trunk writes the hashed file names into this script tag's data attributes (Trunk.toml).
const { js, wasm } = document.querySelector("script[data-wasm]").dataset;
const shell = import(js);
const offline = offlineCopy();
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
const loadedWithoutWorker = await offline;
const { default: init } = await shell;
const instance = await init({ module_or_path: wasm });
// What came before the worker took control (the page, its scripts, perhaps the shell's wasm) is
// kept too, once the page is idle: the worker's fetches (from the browser's cache) then never
// compete with the first view's.
if (loadedWithoutWorker) {
  if (globalThis.requestIdleCallback) requestIdleCallback(nameFetched, { timeout: 5000 });
  else setTimeout(nameFetched, 1000);
}
// As Trunk's own start-up script does: tools (and the tests) can find the module's memory.
dispatchEvent(new CustomEvent("TrunkApplicationStarted", { detail: { wasm: instance } }));

/**
 * The page's offline copy (public/sw.js, the README's "Offline"): registers its service worker,
 * or with `sw=0` in the link removes it and its copy. On a first visit (or any visit it does not
 * control), waits (at most a second) for the worker to take control, so the shell's wasm and what
 * follows are kept as they come. Resolves to whether the page loaded without it.
 */
async function offlineCopy() {
  const workers = navigator.serviceWorker;
  if (!workers) return false; // no service workers here (an insecure origin, a private window)
  const here = new URL('./', import.meta.url);
  const off = ['0', 'false', 'no'].includes(new URLSearchParams(location.search).get('sw')?.trim());
  try {
    if (off) {
      const registration = await workers.getRegistration(here);
      registration?.active?.postMessage({ retire: true });
      return false;
    }
    const controlled = new Promise((done) => workers.addEventListener('controllerchange', done, { once: true }));
    const registering = workers.register(new URL('sw.js', here), { scope: here });
    const { controller } = workers;
    if (controller && controller.state !== 'redundant') {
      // The usual visit: the page starts at once, and is checked once the worker answers, and
      // again should its worker be replaced (a new build's taking over).
      const check = () => registering.then(takenBy).catch(() => {});
      check();
      controller.addEventListener('statechange', () => {
        if (controller.state === 'redundant') check();
      });
      return false;
    }
    takenBy(await registering);
    await Promise.race([controlled, new Promise((done) => setTimeout(done, 1000))]);
    return true;
  } catch {
    // No offline copy (storage refused, a broken sw.js): the page works as without one.
    return false;
  }
}

/**
 * Asks the registration's active worker to take this page, unless it controls it already: the
 * page loaded past it (a hard reload), or as a new build's worker took over. That one claims the
 * open pages as it activates, but a page still loading may not be one yet, and it then stays
 * with no worker, or with the old build's, gone: its requests, and its workers', find none.
 */
function takenBy(registration) {
  const { active } = registration;
  if (active && navigator.serviceWorker.controller !== active) active.postMessage({ claim: true });
}

/** Names the files this page fetched so far to its service worker, which keeps those of the build. */
function nameFetched() {
  const fetched = performance.getEntriesByType('resource').map((entry) => entry.name);
  navigator.serviceWorker.controller?.postMessage({ fetched: [location.href, ...fetched] });
}
