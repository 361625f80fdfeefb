// What a visitor meets, measured as a visitor meets it: the release build served with gzip as
// a static host serves it, over a slow link (the server's: it slows the page's service worker's
// requests too, which Chromium's own throttling leaves alone), a fresh browser profile each
// time. First paint, first view drawn, the page ready, the bytes over the wire by then and after
// a minute idle, and the same visitor's second visit (from the page's offline copy); and the
// page's own thread (frame gaps, long tasks) while a model trains. Used by run.mjs;
// `node visit.mjs` runs these rows alone.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { TYPES, launch, slowLink, waitForState, watchFirstView } from '../e2e/harness.mjs';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');

/** What static hosts compress: text, scripts, styles and wasm (not the shards, gzip already, nor the binary packs). */
const COMPRESSED = ['.html', '.js', '.wasm', '.css', '.json'];

/** The networks of the issue: home broadband, and Lighthouse's mobile setting (slow 4G). */
export const NETWORKS = {
  broadband: { name: '10 Mbit/s, 40 ms', latency: 40, bitsPerSecond: 10e6 },
  slow4g: { name: '1.6 Mbit/s, 150 ms', latency: 150, bitsPerSecond: 1.6e6 },
};

/**
 * Serves `dist` at /demo/ as a static host does: text, scripts, styles and wasm gzipped when
 * the browser accepts it (compressed once, as hosts cache them), everything else as it is
 * (the shards are gzip already; the packs are binary). Over the link given to `use` (none: as
 * fast as the machine); `sent` counts the bytes over the wire, headers and bodies as sent.
 */
export async function gzipServer(dist) {
  const compressed = new Map();
  const sent = { bytes: 0, files: [] };
  let link = null;
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    if (!path.startsWith('/demo/')) return response.writeHead(404).end();
    const relative = normalize(path.slice('/demo/'.length) || 'index.html');
    if (relative.startsWith('..')) return response.writeHead(403).end();
    let body;
    try {
      body = await readFile(join(dist, relative));
    } catch {
      return response.writeHead(404).end('not found');
    }
    const extension = extname(relative);
    const headers = { 'content-type': TYPES[extension] ?? 'application/octet-stream', 'cache-control': 'no-cache' };
    if (COMPRESSED.includes(extension) && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      if (!compressed.has(relative)) compressed.set(relative, gzipSync(body, { level: 6 }));
      body = compressed.get(relative);
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = body.length;
    response.writeHead(200, headers);
    sent.bytes += body.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + String(v).length + 4, 20);
    sent.files.push(relative);
    await (link ? link.send(response, body) : response.end(body));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/demo/`,
    sent,
    use: (network) => { link = network && slowLink(network); },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * One visitor over `network`: the first visit's milestones in ms from navigation, and the
 * megabytes by the first view and after `idleSeconds`. Then, if the tools are not ready yet
 * (the engine waits for a first use), a click, and how long the tools take from it. Then the
 * same visitor comes back: the second visit's first view and its kilobytes over the wire.
 */
export async function firstVisit(browser, server, network, query = '', idleSeconds = 60) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  server.use(network);
  const since = () => {
    const [bytes, files] = [server.sent.bytes, server.sent.files.length];
    return { bytes: () => server.sent.bytes - bytes, files: () => server.sent.files.slice(files) };
  };
  const page = await context.newPage();
  const counts = since();
  await page.addInitScript(watchFirstView);
  await page.goto(`${server.url}${query}`, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.visit?.firstView, null, { timeout: 300_000, polling: 100 });
  const bytesByFirstView = counts.bytes();
  const milestones = await page.evaluate(() => {
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    return { fcp: paint?.startTime, firstView: window.visit.firstView, ready: window.visit.states.ready };
  });
  await page.waitForTimeout(idleSeconds * 1000);
  const result = {
    network: network.name,
    ...milestones,
    tools: await page.evaluate(() => window.visit.tools),
    mb_by_first_view: bytesByFirstView / 1e6,
    mb_after_idle: counts.bytes() / 1e6,
    training_shards_after_idle: counts.files().filter((f) => /\/train-/.test(f)).length,
  };
  if (!result.tools) {
    const clicked = await page.evaluate(() => performance.now());
    await page.click('h1');
    await page.waitForFunction(() => window.visit.tools, null, { timeout: 300_000, polling: 100 });
    result.tools_after_first_use = (await page.evaluate(() => window.visit.tools)) - clicked;
  }
  await page.close();
  const again = await context.newPage();
  const second = since();
  await again.addInitScript(watchFirstView);
  await again.goto(`${server.url}${query}`, { waitUntil: 'commit' });
  await again.waitForFunction(() => window.visit?.firstView, null, { timeout: 300_000, polling: 50 });
  result.second_visit = {
    first_view: await again.evaluate(() => window.visit.firstView),
    kb_by_first_view: second.bytes() / 1e3,
    files: second.files(),
  };
  await context.close();
  server.use(null);
  return result;
}

/**
 * The page's own thread during one autostarted epoch, as the issue measured it before the
 * engine moved to its worker: frame gaps from requestAnimationFrame and long tasks (over 50 ms)
 * from the Long Tasks API, from the run's start to its end (validation included). The epoch
 * starts with the first training shard, so it trains on those 10,000 images while the other
 * shards arrive and are checked and inflated.
 */
export async function threadWhileTraining(browser, url, backend, batch) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.addInitScript(() => {
    window.frameTimes = [];
    window.longTasks = [];
    const tick = (t) => { window.frameTimes.push(t); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => list.getEntries().forEach((e) => window.longTasks.push({ start: e.startTime, duration: e.duration })))
      .observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${url}?experiment=stacked&epochs=1&batch=${batch}&backend=${backend}&autostart=1`);
  await waitForState(page, ['training', 'error'], 600_000);
  const since = await page.evaluate(() => performance.now());
  const state = await waitForState(page, ['done', 'error'], 1_800_000);
  const figures = await page.evaluate((t) => {
    const frames = window.frameTimes.filter((f) => f >= t);
    const gaps = frames.slice(1).map((f, i) => f - frames[i]).sort((a, b) => a - b);
    const tasks = window.longTasks.filter((e) => e.start >= t).map((e) => e.duration);
    return {
      frames: gaps.length,
      frame_p95_ms: gaps[Math.floor(gaps.length * 0.95)],
      worst_frame_ms: gaps.at(-1),
      long_tasks: tasks.length,
      longest_task_ms: Math.max(0, ...tasks),
    };
  }, since);
  const label = await page.textContent('[data-testid=backend]');
  await page.close();
  if (state !== 'done') throw new Error(`the ${backend} epoch ended in ${state}`);
  return { backend: label.trim(), batch, ...figures };
}

/**
 * Lighthouse's performance score in its default (mobile) run, `runs` times (it varies from run
 * to run): the median score and that run's metrics, in Debian's Chromium.
 */
export async function lighthouseScore(url, runs = 3) {
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  try {
    const results = [];
    for (let i = 0; i < runs; i++) {
      const { lhr } = await lighthouse(url, { port: chrome.port, onlyCategories: ['performance'], logLevel: 'error', output: 'json' });
      const metric = (id) => lhr.audits[id]?.numericValue;
      results.push({
        score: lhr.categories.performance.score,
        fcp_ms: metric('first-contentful-paint'),
        lcp_ms: metric('largest-contentful-paint'),
        tbt_ms: metric('total-blocking-time'),
        cls: metric('cumulative-layout-shift'),
        speed_index_ms: metric('speed-index'),
      });
    }
    results.sort((a, b) => a.score - b.score);
    return { ...results[Math.floor(results.length / 2)], scores: results.map((r) => r.score) };
  } finally {
    await chrome.kill();
  }
}

/** All of it, for one build of the page. */
export async function visitor(dist, { idleSeconds = 60 } = {}) {
  const server = await gzipServer(dist);
  const browser = await launch();
  try {
    const visits = [];
    for (const network of Object.values(NETWORKS)) visits.push(await firstVisit(browser, server, network, '', idleSeconds));
    // On first use (prefetch=0): what a visitor who never interacts costs.
    const lazy = await firstVisit(browser, server, NETWORKS.broadband, '?prefetch=0', idleSeconds);
    const thread = [];
    for (const [backend, batch] of [['cpu', 32], ['cpu', 256], ['webgpu', 32]]) thread.push(await threadWhileTraining(browser, server.url, backend, batch));
    const score = await lighthouseScore(server.url);
    return { visits, lazy, thread, lighthouse: score };
  } finally {
    await browser.close();
    await server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dist = process.argv[2] ?? join(root, 'dist');
  const idle = Number(process.env.IDLE_SECONDS ?? 60);
  console.log(JSON.stringify(await visitor(dist, { idleSeconds: idle }), null, 2));
}
