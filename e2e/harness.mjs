// Shared by the e2e tests: a static server for dist/ on 127.0.0.1, Debian's Chromium with
// WebGPU (SwiftShader here), and helpers that read the page's state.
import { createServer } from 'node:http';
import { after, before } from 'node:test';
import { readFile, mkdir } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
export const DIST = process.env.DIST_DIR ?? join(here, '..', 'dist');
export const ARTIFACTS = join(here, 'artifacts');

/** Content types by file extension, as a static host sends them. */
export const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
  '.gz': 'application/octet-stream',
  '.png': 'image/png',
};

/**
 * The strict Content-Security-Policy every test runs under (the README recommends it): scripts
 * and workers only from the page's own folder, WebAssembly allowed, no inline script, no eval,
 * no <style> elements, nothing from any other host.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  // plotters measures chart labels with a styled, off-screen <span>: style attributes only.
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Serves `root` under the sub-path `/course/demo/`, as a course site would embed it, with `csp`
 * (`CSP`; null for none), over `link` (`slowLink`; null: as fast as the machine). It can be
 * pointed at another build (`deploy`), counts the bytes it sent and names the files (`sent`),
 * and can be shut, as a network that is gone.
 */
export async function serve(root = DIST, { csp = CSP, link = null } = {}) {
  const prefix = '/course/demo/';
  const sent = { bytes: 0, files: [] };
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    if (!path.startsWith(prefix)) {
      response.writeHead(404).end('not found');
      return;
    }
    const relative = normalize(path.slice(prefix.length) || 'index.html');
    if (relative.startsWith('..')) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(join(root, relative));
      response.writeHead(200, {
        'content-type': TYPES[extname(relative)] ?? 'application/octet-stream',
        ...(csp ? { 'content-security-policy': csp } : {}),
      });
      sent.bytes += body.length;
      sent.files.push(relative);
      await (link ? link.send(response, body) : response.end(body));
    } catch {
      response.writeHead(404).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}${prefix}`;
  return {
    url,
    sent,
    /** Serves `folder` from now on: a new build deployed over the old one. */
    deploy: (folder) => { root = folder; },
    close: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    }),
  };
}

/**
 * A slow network on the server's side, shared by every answer as one link is: each answer
 * starts `latency` ms after its request, and its bytes leave in 16 KB pieces at
 * `bitsPerSecond`, one piece at a time over all answers. Unlike the browser's throttling it
 * slows a service worker's requests too.
 */
export function slowLink({ latency, bitsPerSecond }) {
  let free = 0; // when the link has sent everything queued so far
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  return {
    latency,
    bitsPerSecond,
    async send(response, body) {
      await sleep(latency);
      for (let at = 0; at < body.length; at += 16_384) {
        const piece = body.subarray(at, at + 16_384);
        free = Math.max(free, performance.now()) + (piece.length * 8 * 1000) / bitsPerSecond;
        await sleep(free - performance.now());
        if (!response.write(piece)) await new Promise((resolve) => response.once('drain', resolve));
      }
      response.end();
    },
  };
}

/**
 * For a test file: serves dist/ and launches Chromium before its tests and closes both after.
 * The returned object holds `server` and `browser` once the tests run.
 */
export function pageSession() {
  const session = {};
  before(async () => {
    session.server = await serve();
    session.browser = await launch();
  });
  after(async () => {
    await session.browser?.close();
    await session.server?.close();
  });
  return session;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/** For `openPage`: no service worker, so that the test's routes see every request. */
export const BLOCKED = { serviceWorkers: 'block' };

/**
 * A new page, in a browser profile of its own, that records uncaught errors, console errors and
 * Content-Security-Policy violations (all count as problems), and keeps the wasm module's
 * exports as `window.wasm`. The page's service worker (its offline copy) runs as for any
 * visitor; a test that fakes the network with routes passes `serviceWorkers: 'block'`, as a
 * service worker's requests bypass a page's routes.
 */
export async function openPage(browser, url, viewport = { width: 1280, height: 1000 }, { serviceWorkers = 'allow' } = {}) {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1, serviceWorkers });
  page.problems = [];
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    addEventListener('TrunkApplicationStarted', (e) => { window.wasm = e.detail.wasm; });
  });
  // Long tasks (over 50 ms on the main thread), to check the page stays responsive.
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  // The stack's JS glue frames say which callback threw (e.g. `Worker.real` and the closure
  // shim); the wasm frames are numbers only, as the web profile strips names.
  page.on('pageerror', (error) => page.problems.push(`pageerror: ${error.message}\n${error.stack ?? ''}`));
  page.on('console', (message) => {
    if (message.type() === 'error') page.problems.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return page;
}

export async function waitForState(page, states, timeout) {
  await page.waitForFunction((wanted) => wanted.includes(document.body.dataset.state), states, { timeout });
  return page.evaluate(() => document.body.dataset.state);
}

/**
 * Runs `setup` in the engine's worker before the engine's wasm starts (init scripts reach only
 * the page, not its workers): the wasm is held in the network until `setup` has run there.
 */
export async function beforeEngine(page, setup) {
  let release;
  const done = new Promise((resolve) => { release = resolve; });
  await page.route('**/engine_bg.wasm', async (route) => {
    await done;
    await route.continue();
  });
  page.on('worker', async (worker) => {
    if (!worker.url().endsWith('/engine_boot.js')) return;
    await worker.evaluate(setup);
    release();
  });
}

/** The engine's worker, once the page has started it. */
export async function engineWorker(page, timeout = 120_000) {
  const found = () => page.workers().find((w) => w.url().endsWith('/engine_boot.js'));
  if (found()) return found();
  await page.waitForEvent('worker', { predicate: (w) => w.url().endsWith('/engine_boot.js'), timeout });
  return found();
}

/**
 * For `page.addInitScript`, before the page's scripts: `window.visit.firstView` (ms from the
 * navigation) once the first view's canvases have ink, `.tools` once the explore tools draw,
 * and `.states` when each `data-state` came.
 */
export function watchFirstView() {
  window.visit = { states: {} };
  new MutationObserver(() => {
    const state = document.body?.dataset.state;
    if (state && !(state in window.visit.states)) window.visit.states[state] = performance.now();
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-state'] });
  const inked = (id) => {
    const c = document.querySelector(`[data-testid=${id}]`);
    if (!c || !c.width || !c.height) return false;
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    for (let i = 0; i < data.length; i += 16) if (data[i + 3] > 0 && (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250)) return true;
    return false;
  };
  const check = setInterval(() => {
    if (!window.visit.firstView && ['loss-chart', 'reconstructions', 'embedding'].every(inked)) window.visit.firstView = performance.now();
    // The explore tools need the engine and the test images: the picked image's reconstruction.
    if (!window.visit.tools && inked('picked-images')) window.visit.tools = performance.now();
    if (window.visit.firstView && window.visit.tools) clearInterval(check);
  }, 25);
}

/** The history table as numbers, one object per epoch. */
export async function history(page) {
  return page.$$eval('[data-testid=history] tbody tr', (rows) =>
    rows.map((row) => {
      const [epoch, loss, acc, valLoss, valAcc, seconds] = [...row.cells].map((c) => Number(c.textContent));
      return { epoch, loss, acc, valLoss, valAcc, seconds };
    }),
  );
}

/** Share of a canvas' pixels that are not white: 0 means nothing was drawn. */
export async function inkShare(page, testid) {
  return page.$eval(`[data-testid=${testid}]`, (canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250) ink++;
    return ink / (data.length / 4);
  });
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The longest main-thread task since `since` (a `performance.now()` time), in milliseconds. */
export async function longestTaskSince(page, since) {
  return page.evaluate((t) => Math.max(0, ...window.longTasks.filter((e) => e.start >= t).map((e) => e.duration)), since);
}

/** Waits until a canvas has some ink (non-white pixels). */
export async function waitForInk(page, testid, timeout = 60_000) {
  await page.waitForFunction((id) => {
    const c = document.querySelector(`[data-testid=${id}]`);
    if (!c || !c.width || !c.height) return false;
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    // Painted (not transparent) and not white.
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250)) return true;
    return false;
  }, testid, { timeout });
}

/** Page coordinates of a dot on the map: its first strongly coloured pixel. */
export async function dotOnMap(page) {
  const box = await page.locator('[data-testid=embedding]').boundingBox();
  return page.evaluate(({ x, y, width, height }) => {
    const canvas = document.querySelector('[data-testid=embedding]');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) {
        const px = (i / 4) % canvas.width;
        const py = Math.floor(i / 4 / canvas.width);
        return { x: x + ((px + 0.5) * width) / canvas.width, y: y + ((py + 0.5) * height) / canvas.height };
      }
    }
    return null;
  }, box);
}

/** How many of a canvas' pixels are within `tolerance` of the colour `#rrggbb`. */
/**
 * `read()` again every 100 ms until `done(value)` holds or `timeout` ms pass; the last value.
 * For what the page draws in a task after the event a test waits on (charts draw after the next
 * paint), read once would race it.
 */
export async function settled(read, done, timeout = 10_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > end) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function pixelsOfColor(page, testid, hex, tolerance = 8) {
  return page.$eval(`[data-testid=${testid}]`, (canvas, [hex, tolerance]) => {
    const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (want.every((v, k) => Math.abs(data[i + k] - v) <= tolerance)) count++;
    }
    return count;
  }, [hex, tolerance]);
}
