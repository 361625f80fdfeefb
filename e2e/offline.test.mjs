// The page's offline copy (public/sw.js): a second visit from the copy, the page opened and
// trained with no network at all, a new build deployed over an old one, and `sw=0`. Each test
// has a browser profile and a server of its own; "offline" is both the browser's offline mode
// (DevTools) and the server shut, so nothing can leak through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, engineWorker, history, launch, screenshot, serve, slowLink, waitForState, watchFirstView } from './harness.mjs';

const MINUTE = 60_000;
const ROOT = join(DIST, '..');
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The build's files with their revisions, as its sw.js lists them. */
async function revisions(folder) {
  const sw = await readFile(join(folder, 'sw.js'), 'utf8');
  return Object.fromEntries([...sw.matchAll(/^ {2}"([^"]+)": "([0-9a-f]{16})",$/gm)].map((m) => [m[1], m[2]]));
}

/** What the offline copy holds: each kept file (relative to the page's folder) with its revision. */
function keptFiles(page) {
  return page.evaluate(async () => {
    const cache = await caches.open('fmnist-ae');
    const folder = new URL('./', location.href).pathname;
    const kept = {};
    for (const request of await cache.keys()) {
      kept[new URL(request.url).pathname.slice(folder.length)] = (await cache.match(request)).headers.get('x-offline-revision');
    }
    return kept;
  });
}

/** Waits until the offline copy holds every one of `files`. */
async function waitUntilKept(page, files, timeout = 2 * MINUTE) {
  const start = Date.now();
  for (;;) {
    const kept = await keptFiles(page);
    const missing = files.filter((f) => !(f in kept));
    if (missing.length === 0) return kept;
    if (Date.now() - start > timeout) throw new Error(`not kept after ${timeout} ms: ${missing.join(', ')}`);
    await page.waitForTimeout(250);
  }
}

/** A new page on `url`, once it is ready and the copy holds every one of `files`. */
async function openKept(context, url, files) {
  const page = await context.newPage();
  await page.goto(url);
  await waitForState(page, ['ready'], MINUTE);
  await waitUntilKept(page, files);
  return page;
}

/** Waits until the registration's active worker controls `page`. */
function waitUntilControlled(page, timeout) {
  return page.waitForFunction(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return registration?.active && navigator.serviceWorker.controller === registration.active;
  }, null, { timeout });
}

/** The files of the first view: the shell and the shown experiment's pack. */
async function firstViewFiles(experiment = 'stacked') {
  const html = await readFile(join(DIST, 'index.html'), 'utf8');
  const hashed = [...html.matchAll(/(?:href|src|data-js|data-wasm)="\.\/((?:app|style)-[0-9a-f]+[^"]*)"/g)].map((m) => m[1]);
  return ['index.html', 'boot.js', 'lang.js', ...new Set(hashed), `pretrained/${experiment}.view.bin`];
}

/** The engine's files, and the data a visit that trained on the first shard fetched. */
const ENGINE_FILES = ['engine_boot.js', 'engine.js', 'engine_bg.wasm', 'data/fashion-mnist/manifest.json', 'data/fashion-mnist/test-00.bin.gz'];

/**
 * A visit as a student makes it: the page opens on the pretrained model, its tools come at idle,
 * then Train trains `query`'s run once. Waits until the copy has all of it.
 */
async function visitAndTrain(context, url, query, experiment) {
  const page = await context.newPage();
  await page.addInitScript(watchFirstView);
  await page.goto(`${url}?${query}`);
  await page.waitForFunction(() => window.visit?.tools, null, { timeout: 5 * MINUTE, polling: 100 });
  await page.click('[data-testid=train]');
  assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
  await mapped(page);
  await waitUntilKept(page, [...(await firstViewFiles(experiment)), ...ENGINE_FILES, ...TSNE_FILES, 'data/fashion-mnist/train-00.bin.gz', `pretrained/${experiment}.safetensors`]);
  return page;
}

/** The t-SNE worker's files (a run's map is computed in it). */
const TSNE_FILES = ['tsne_worker_loader.js', 'tsne_worker.js', 'tsne_worker_bg.wasm'];

/** Waits until the map of the trained model is computed (its status gives the seconds it took). */
async function mapped(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid=embedding-status]')?.textContent.includes(' s.'), null, { timeout: 5 * MINUTE });
}

/** The page shows nothing with this test id (else the test fails, quoting it). */
async function absent(page, testid) {
  const element = await page.$(`[data-testid=${testid}]`);
  assert.equal(element && (await element.textContent()), null, `[data-testid=${testid}] is shown`);
}

/** No network: the browser's offline mode, and the server shut. */
async function goOffline(context, server) {
  await context.setOffline(true);
  await server.close();
}

test('a second visit comes from the copy: a few kilobytes, its first view within a second at 10 Mbit/s', async () => {
  const server = await serve(DIST, { link: slowLink({ latency: 40, bitsPerSecond: 10e6 }) });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  try {
    const first = await context.newPage();
    await first.addInitScript(watchFirstView);
    await first.goto(server.url);
    // The visit ends once the tools are ready: the engine and the test images came at idle.
    await first.waitForFunction(() => window.visit?.tools, null, { timeout: 5 * MINUTE, polling: 100 });
    await waitUntilKept(first, [...(await firstViewFiles()), ...ENGINE_FILES, 'pretrained/stacked.safetensors']);
    await first.close();

    const before = { bytes: server.sent.bytes, files: server.sent.files.length };
    const second = await context.newPage();
    await second.addInitScript(watchFirstView);
    await second.goto(server.url);
    await second.waitForFunction(() => window.visit?.firstView, null, { timeout: MINUTE, polling: 50 });
    const firstView = await second.evaluate(() => window.visit.firstView);
    const bytes = server.sent.bytes - before.bytes;
    const files = server.sent.files.slice(before.files);
    console.log(`second visit: first view at ${firstView.toFixed(0)} ms, ${bytes} bytes over the wire (${files.join(', ')})`);
    assert.ok(bytes <= 50_000, `${bytes} bytes: ${files.join(', ')}`);
    assert.ok(firstView <= 1000, `first view at ${firstView} ms`);
    // Only what is revalidated came over the network, and nothing of the build's big files.
    assert.ok(files.every((f) => ['index.html', 'sw.js'].includes(f)), files.join(', '));
    // The tools are ready from the copy too.
    await second.waitForFunction(() => window.visit?.tools, null, { timeout: 2 * MINUTE, polling: 100 });
    assert.ok(server.sent.files.slice(before.files).every((f) => ['index.html', 'sw.js', 'data/fashion-mnist/manifest.json'].includes(f)));
  } finally {
    await context.close();
    await server.close();
  }
});

test('offline after one visit that trained: the page opens, shows the pretrained model and trains from the copy', async () => {
  const server = await serve();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  try {
    const query = 'experiment=tied&epochs=1&train_limit=10000&backend=cpu';
    const page = await visitAndTrain(context, server.url, query, 'tied');
    await goOffline(context, server);
    await page.goto(`${server.url}?${query}`);
    assert.equal(await waitForState(page, ['ready', 'error'], MINUTE), 'ready');
    assert.match(await page.textContent('[data-testid=offline]'), /Offline: the page runs from the copy this device kept/);
    assert.match(await page.textContent('[data-testid=shown]'), /Pretrained: tied/);
    await page.click('[data-testid=train]');
    assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
    assert.equal((await history(page)).length, 1);
    // The trained model's map too: t-SNE's worker comes from the copy.
    await mapped(page);
    await absent(page, 'unreachable');
    await absent(page, 'error');
  } finally {
    await context.close();
  }
});

test('offline, a training shard never fetched is named, and the run trains on the shards this device has', async () => {
  const server = await serve();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  try {
    const page = await visitAndTrain(context, server.url, 'experiment=tied&epochs=1&train_limit=10000&backend=cpu', 'tied');
    await goOffline(context, server);
    // This run needs the second shard as well, which this device never fetched.
    await page.goto(`${server.url}?experiment=tied&epochs=1&train_limit=20000&backend=cpu&lang=zh`);
    assert.equal(await waitForState(page, ['ready', 'error'], MINUTE), 'ready');
    await page.click('[data-testid=train]');
    assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
    const said = await page.textContent('[data-testid=unreachable]');
    assert.match(said, /train-01\.bin\.gz/);
    assert.doesNotMatch(said, /train-00/);
    assert.match(said, /不在本机上，且没有网络可以下载/);
    assert.match(said, /训练会使用已加载的图像/);
    assert.match(await page.textContent('[data-testid=offline]'), /离线/);
    await screenshot(page, 'offline-zh');
    // Nothing else broke: the run trained on the 10,000 images here, and no error stands.
    assert.equal((await history(page)).length, 1);
    assert.match(await page.textContent('[data-testid=data-progress]'), /20000 \/ 70000/);
    await absent(page, 'error');
    await absent(page, 'load-error');
    // In English too.
    await page.click('[data-testid=lang-en]');
    assert.match(await page.textContent('[data-testid=unreachable]'), /Not on this device, and no network to fetch them: train-01\.bin\.gz\. Some data files did not load; training uses the images that did\./);
    await screenshot(page, 'offline-en');
  } finally {
    await context.close();
  }
});

test('a new build deployed over an old one: a reload runs the new build, with no file of the old one', async () => {
  // The new build: the old one with its engine and start-up script changed, as any change to
  // the engine's code would (their names carry no hash), and its sw.js and build id written again.
  const folder = await mkdtemp(join(tmpdir(), 'new-build-'));
  const server = await serve();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  try {
    await cp(DIST, folder, { recursive: true });
    await appendFile(join(folder, 'engine.js'), "\nself.buildMark = 'new';\n");
    await appendFile(join(folder, 'boot.js'), "\nglobalThis.buildMark = 'new';\n");
    execFileSync('sh', [join(ROOT, 'scripts', 'offline-manifest.sh'), folder], { stdio: 'pipe' });
    const [oldFiles, newFiles] = [await revisions(DIST), await revisions(folder)];
    assert.notEqual(oldFiles['engine.js'], newFiles['engine.js']);
    assert.notEqual(oldFiles['index.html'], newFiles['index.html']);

    const page = await openKept(context, `${server.url}?experiment=tied`, [...(await firstViewFiles('tied')), ...ENGINE_FILES]);
    assert.equal(await (await engineWorker(page)).evaluate(() => self.buildMark ?? 'old'), 'old');

    server.deploy(folder);
    const sentBefore = server.sent.files.length;
    const answered = [];
    const reloaded = performance.now();
    let documentAfter;
    const folderPath = new URL(server.url).pathname;
    page.on('response', (r) => {
      const url = new URL(r.url());
      const path = decodeURIComponent(url.pathname.slice(folderPath.length)) || 'index.html';
      answered.push({ path, from: r.fromServiceWorker() ? 'sw' : 'net', revision: r.headers()['x-offline-revision'] });
      if (r.request().isNavigationRequest()) documentAfter ??= performance.now() - reloaded;
    });
    await page.reload();
    await waitForState(page, ['ready'], MINUTE);
    console.log(`after the deploy the new page's document came in ${documentAfter.toFixed(0)} ms; the server sent: ${server.sent.files.slice(sentBefore).join(', ')}`);
    console.log(`answers: ${answered.map((a) => `${a.path}:${a.from}:${a.revision ?? '-'}`).join(', ')}; new boot.js ${newFiles['boot.js']}, old ${oldFiles['boot.js']}`);
    const build = (await readFile(join(folder, 'index.html'), 'utf8')).match(/<meta name="build" content="([0-9a-f]+)"/)[1];
    assert.equal(await page.getAttribute('meta[name=build]', 'content'), build);
    // The new start-up script ran (it sets its mark once the shell has started).
    await page.waitForFunction(() => globalThis.buildMark === 'new', null, { timeout: 10_000 });
    const worker = await engineWorker(page);
    await worker.evaluate(() => new Promise((resolve) => { const wait = () => (self.engine ? resolve() : setTimeout(wait, 50)); wait(); }));
    assert.equal(await worker.evaluate(() => self.buildMark ?? 'old'), 'new');
    // No answer came from the old build's copy (a file kept at a revision the new build lacks).
    const fromOldCopy = answered.filter((a) => a.revision !== undefined && a.revision !== newFiles[a.path]);
    assert.deepEqual(fromOldCopy, [], 'the new build was answered with files of the old one');
    // The new build's worker took over and forgot the old build's files; what both builds share
    // (the data, the weights, the shell) was kept, not fetched again.
    await waitUntilControlled(page, MINUTE);
    let kept;
    for (let i = 0; i < 40; i++) {
      kept = await keptFiles(page);
      if (Object.entries(kept).every(([file, rev]) => newFiles[file] === rev)) break;
      await page.waitForTimeout(250);
    }
    const stale = Object.entries(kept).filter(([file, rev]) => newFiles[file] !== rev);
    assert.deepEqual(stale, [], 'files of the old build are still kept');
    assert.equal(kept['data/fashion-mnist/test-00.bin.gz'], newFiles['data/fashion-mnist/test-00.bin.gz']);
    // A third visit comes from the copy, and is the new build still.
    await page.reload();
    await waitForState(page, ['ready'], MINUTE);
    assert.equal(await page.evaluate(() => globalThis.buildMark ?? 'old'), 'new');
  } finally {
    await context.close();
    await server.close();
    await rm(folder, { recursive: true, force: true });
  }
});

test('a page loaded past its service worker (a hard reload) is taken over by it, and what it fetches next comes from the copy', async () => {
  const server = await serve();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  try {
    const page = await openKept(context, server.url, await firstViewFiles());
    let document;
    page.on('response', (r) => { if (r.request().isNavigationRequest()) document ??= r; });
    const cdp = await context.newCDPSession(page);
    await Promise.all([page.waitForEvent('load'), cdp.send('Page.reload', { ignoreCache: true })]);
    assert.equal(document.fromServiceWorker(), false, 'a hard reload bypasses the service worker');
    await waitForState(page, ['ready'], MINUTE);
    await waitUntilControlled(page, 10_000);
    const revision = await page.evaluate(async () => (await fetch('pretrained/stacked.view.bin')).headers.get('x-offline-revision'));
    assert.equal(revision, (await revisions(DIST))['pretrained/stacked.view.bin']);
  } finally {
    await context.close();
    await server.close();
  }
});

test('sw=0 removes the copy and its service worker, and stays in the link', async () => {
  const server = await serve();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  try {
    const page = await openKept(context, server.url, await firstViewFiles());
    await page.goto(`${server.url}?sw=0`);
    await waitForState(page, ['ready'], MINUTE);
    await page.waitForFunction(async () => !(await navigator.serviceWorker.getRegistration()) && !(await caches.has('fmnist-ae')), null, { timeout: MINUTE });
    assert.match(page.url(), /[?&]sw=0\b/);
    await page.reload();
    await waitForState(page, ['ready'], MINUTE);
    assert.equal(await page.evaluate(() => navigator.serviceWorker.controller), null);
    assert.equal(await page.evaluate(() => caches.has('fmnist-ae')), false);
  } finally {
    await context.close();
    await server.close();
  }
});
