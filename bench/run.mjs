// The browser half of the benchmarks, in one browser and one run: our page's training step
// against TensorFlow.js 4.22 on the same data, a 10-epoch session of the page (time to
// interactive, full-epoch time, peak JS heap, t-SNE map time), and the release build's size.
// Merges the native figures bench/run.sh wrote (bench/out/*.json), prints the README's table
// and writes bench/results.json. Needs the release build in dist/ and `npm ci` here.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import os from 'node:os';
import { beforeEngine, engineWorker, history, launch, serve, waitForState } from '../e2e/harness.mjs';
import { visitor } from './visit.mjs';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const out = join(root, 'bench', 'out');
// No Content-Security-Policy here: TensorFlow.js evaluates strings, which our page's policy
// forbids (the e2e suite checks our page under it; a policy does not change its speed).
const server = await serve(root, { csp: null });
const browser = await launch();

/**
 * Counts what a page or worker asks of its WebGPU device: compute dispatches (kernel
 * launches), queue submits and buffer writes, in globalThis.gpuCounts. Installed before any of
 * its scripts: TF.js's page, our engine's worker.
 */
function countGpuWork() {
  globalThis.gpuCounts = { dispatches: 0, submits: 0, writes: 0 };
  const wrap = (proto, method, key) => {
    if (!proto?.[method]) return;
    const original = proto[method];
    proto[method] = function (...args) {
      globalThis.gpuCounts[key]++;
      return original.apply(this, args);
    };
  };
  wrap(globalThis.GPUComputePassEncoder?.prototype, 'dispatchWorkgroups', 'dispatches');
  wrap(globalThis.GPUComputePassEncoder?.prototype, 'dispatchWorkgroupsIndirect', 'dispatches');
  wrap(globalThis.GPUQueue?.prototype, 'submit', 'submits');
  wrap(globalThis.GPUQueue?.prototype, 'writeBuffer', 'writes');
}

async function counting(page) {
  await page.addInitScript(countGpuWork);
  return page;
}

/**
 * One epoch of `steps` steps (validation included) on our page, started once every shard is
 * in: its seconds, and the WebGPU work of the whole session of its engine (whose worker holds
 * the device).
 */
async function ourEpoch(backend, batch, steps, dist) {
  const page = await browser.newPage();
  await beforeEngine(page, countGpuWork);
  const query = `experiment=stacked&epochs=1&batch=${batch}&train_limit=${batch * steps}&backend=${backend}`;
  await page.goto(`${server.url}${dist}/index.html?${query}`);
  // An epoch uses the images loaded when it starts: fetch all of them first, so it has its steps.
  await page.click('[data-testid=fetch-training]');
  await page.waitForFunction(
    () => document.body.dataset.state === 'ready' && /all loaded/.test(document.querySelector('[data-testid=data-progress]')?.textContent ?? ''),
    null,
    { timeout: 600_000 },
  );
  await page.click('[data-testid=train]');
  const state = await waitForState(page, ['done', 'error'], 1_200_000);
  const rows = await history(page);
  const counts = await (await engineWorker(page)).evaluate(() => globalThis.gpuCounts);
  await page.close();
  if (state !== 'done') throw new Error(`our page ended in ${state}`);
  return { seconds: rows[0].seconds, ...counts };
}

/**
 * Our ms, kernel launches and submits per step: the difference of two epochs cancels start-up,
 * validation and everything else that happens once. `dist`: which build of the page.
 */
async function ourStep(backend, batch, [few, many], dist = 'dist') {
  const [short, long] = [await ourEpoch(backend, batch, few, dist), await ourEpoch(backend, batch, many, dist)];
  const perStep = (key) => (long[key] - short[key]) / (many - few);
  return { ms: perStep('seconds') * 1000, launches: perStep('dispatches'), submits: perStep('submits') };
}

/**
 * Two epochs of one step each on `backend`: the second is the validation of the 10,000 test
 * images with every kernel compiled; what the first takes beyond it is the warm-up (compiling
 * the kernels, first allocations).
 */
async function ourValidation(backend) {
  const page = await browser.newPage();
  await page.goto(`${server.url}dist/index.html?experiment=stacked&epochs=2&batch=32&train_limit=32&backend=${backend}&autostart=1`);
  const state = await waitForState(page, ['done', 'error'], 1_200_000);
  const rows = await history(page);
  await page.close();
  if (state !== 'done') throw new Error(`our page ended in ${state}`);
  return { validation: rows[1].seconds, warmup: rows[0].seconds - rows[1].seconds };
}

/**
 * Where our CPU step's time goes in the browser, phase by phase, and burn's autodiff step's
 * (bench/step-profile: the model crate's profile built for wasm): ms per step by phase.
 */
async function ourPhases() {
  const page = await browser.newPage();
  await page.goto(`${server.url}bench/step-profile/index.html`);
  await page.waitForFunction(() => window.results, null, { timeout: 600_000 });
  const results = await page.evaluate(() => window.results);
  await page.close();
  if (results.error) throw new Error(`the step profile failed: ${results.error}`);
  return Object.fromEntries(Object.entries(results).map(([key, p]) => [key, msPerStep(p)]));
}

const PHASES = ['upload', 'forward', 'loss', 'backward', 'update'];

/** A profile's seconds over its steps (`fmnist-ae bench`'s JSON) as ms per step by phase. */
const msPerStep = (p) => Object.fromEntries(PHASES.map((k) => [k, (p[k] * 1000) / p.steps]));

/**
 * The phases table: where a CPU step's time goes, ms per phase, our CPU step against burn's
 * autodiff step, in the browser (wasm) and natively (batch 32).
 */
function phaseRows(browserPhases, native) {
  const lines = ['| where a CPU step goes, ms | upload | forward | loss, accuracy | backward | update | total |', '|---|---|---|---|---|---|---|'];
  const add = (name, p) => {
    const values = PHASES.map((k) => p[k]);
    lines.push(`| ${name} | ${[...values, values.reduce((a, b) => a + b, 0)].map((ms) => ms.toFixed(3)).join(' | ')} |`);
  };
  for (const [key, p] of Object.entries(browserPhases ?? {})) {
    add(`browser, ${key.replace('cpu_step', 'our CPU step').replace('autodiff', "burn's autodiff").replace('_batch', ', batch ')}`, p);
  }
  if (native?.profile_batch32) add('native, our CPU step, batch 32', msPerStep(native.profile_batch32));
  if (native?.profile_batch32_autodiff) add("native, burn's autodiff, batch 32", msPerStep(native.profile_batch32_autodiff));
  return lines;
}

async function theirs(backends) {
  const page = await counting(await browser.newPage());
  await page.goto(`${server.url}bench/tfjs/index.html?backends=${backends.join(',')}`);
  await page.waitForFunction(() => window.results, null, { timeout: 1_200_000 });
  const results = await page.evaluate(() => window.results);
  await page.close();
  return results;
}

/**
 * A visitor's session: load the page, train the stacked model for 10 epochs on the automatic
 * backend, wait for the t-SNE map. Time to interactive is navigation start to the controls
 * being usable (data-state "ready"); the JS heap is sampled every second.
 */
async function session() {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    window.stateTimes = {};
    new MutationObserver(() => {
      const state = document.body?.dataset.state;
      if (state && !(state in window.stateTimes)) window.stateTimes[state] = performance.now();
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-state'] });
  });
  await page.goto(`${server.url}dist/index.html?experiment=stacked&epochs=10&autostart=1`);
  let peakHeap = 0;
  const sampler = setInterval(async () => {
    const used = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0).catch(() => 0);
    peakHeap = Math.max(peakHeap, used);
  }, 1000);
  const state = await waitForState(page, ['done', 'error'], 3_600_000);
  await page.waitForFunction(
    () => /iterations in [\d.]+ s/.test(document.querySelector('[data-testid=embedding-status]')?.textContent ?? ''),
    null,
    { timeout: 600_000 },
  );
  clearInterval(sampler);
  const mapText = await page.textContent('[data-testid=embedding-status]');
  const backend = await page.textContent('[data-testid=backend]');
  const times = await page.evaluate(() => window.stateTimes);
  const rows = await history(page);
  await page.close();
  if (state !== 'done') throw new Error(`the 10-epoch session ended in ${state}`);
  // Epoch 1 may start before every shard is in; epochs 2-10 cover all 60,000 images.
  const full = rows.slice(1).map((r) => r.seconds);
  return {
    backend: backend.trim(),
    // With autostart, "ready" can turn into "training" before the observer runs.
    time_to_interactive_ms: times.ready ?? times.training,
    full_epoch_seconds: full.reduce((a, b) => a + b, 0) / full.length,
    peak_js_heap_mb: peakHeap / 2 ** 20,
    tsne_seconds: Number(mapText.match(/iterations in ([\d.]+) s/)[1]),
    final_val_loss: rows.at(-1).valLoss,
  };
}

async function sizes(build = 'dist') {
  const dist = join(root, build);
  const files = (await readdir(dist)).filter((f) => f.endsWith('.wasm'));
  const result = {};
  for (const file of files) {
    const bytes = await readFile(join(dist, file));
    const name = file.startsWith('tsne_worker') ? 't-SNE worker' : file.startsWith('engine') ? 'engine' : 'shell';
    result[name] = { raw_mb: bytes.length / 1e6, gzip_mb: gzipSync(bytes, { level: 9 }).length / 1e6 };
  }
  return result;
}

async function native(name) {
  try {
    return JSON.parse(await readFile(join(out, `${name}.json`), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The two builds of the page (bench/run.sh makes both): `dist/`, the published `web` profile
 * (`trunk build --release`), against `dist-serve/`, the quick-to-build `serve` profile that
 * `trunk serve` uses. Their step at batch 32 on both backends, and their sizes.
 */
async function profiles() {
  const step = async (dist) => ({
    // 1,200 steps between the two epochs: their validations differ by up to a second.
    cpu_ms_per_step_batch32: (await ourStep('cpu', 32, [10, 1210], dist)).ms,
    webgpu_ms_per_step_batch32: (await ourStep('webgpu', 32, [10, 160], dist)).ms,
    sizes: await sizes(dist),
  });
  return { web: await step('dist'), serve: await step('dist-serve') };
}

// Enough steps that the table's 0.1 s rounding is under 0.3 ms per step.
// `--webgpu-only`: our WebGPU rows and TF.js webgpu's, nothing else (minutes, not an hour).
// `--profiles-only`: the `serve` build against the `web` one, nothing else.
// `--cpu-only`: our CPU (wasm) rows, a full CPU epoch of 60k with validation, and TF.js wasm's.
const webgpuOnly = process.argv.includes('--webgpu-only');
if (process.argv.includes('--cpu-only')) {
  const cpu = { ms_per_step_batch32: (await ourStep('cpu', 32, [10, 610])).ms, ms_per_step_batch256: (await ourStep('cpu', 256, [4, 124])).ms };
  cpu.full_epoch_seconds = (await ourEpoch('cpu', 32, 1875, 'dist')).seconds;
  cpu.phases = await ourPhases();
  const tfjs = await theirs(['wasm']);
  console.log(JSON.stringify({ ours: cpu, tfjs: tfjs.wasm }, null, 2));
  console.log(phaseRows(cpu.phases).join('\n'));
  await browser.close();
  await server.close();
  process.exit(0);
}
if (process.argv.includes('--profiles-only')) {
  console.log(JSON.stringify(await profiles(), null, 2));
  await browser.close();
  await server.close();
  process.exit(0);
}
const ours = {};
if (!webgpuOnly) {
  ours.cpu = { ms_per_step_batch32: (await ourStep('cpu', 32, [10, 610])).ms, ms_per_step_batch256: (await ourStep('cpu', 256, [4, 124])).ms };
  ours.cpu.phases = await ourPhases();
}
// Each epoch includes the 10k validation (seconds, and noisy): enough steps between the two
// epochs that the steps, not that noise, make the difference.
const webgpu = { 32: await ourStep('webgpu', 32, [10, 160]), 256: await ourStep('webgpu', 256, [4, 44]) };
ours.webgpu = {
  ms_per_step_batch32: webgpu[32].ms,
  ms_per_step_batch256: webgpu[256].ms,
  launches_per_step_batch32: webgpu[32].launches,
  launches_per_step_batch256: webgpu[256].launches,
  submits_per_step_batch32: webgpu[32].submits,
  submits_per_step_batch256: webgpu[256].submits,
};
const validation = await ourValidation('webgpu');
ours.webgpu.validation_seconds = validation.validation;
ours.webgpu.warmup_seconds = validation.warmup;
const tfjs = await theirs(webgpuOnly ? ['webgpu'] : ['wasm', 'webgpu', 'cpu']);
if (webgpuOnly) {
  console.log(JSON.stringify({ ours: ours.webgpu, tfjs }, null, 2));
  await browser.close();
  await server.close();
  process.exit(0);
}
const page = await session();
const builds = await profiles();
// The first visit over throttled networks and the page's thread while training: their own
// browser and server (gzip, as static hosts serve).
const visit = await visitor(join(root, 'dist'));
const chromium = browser.version();
await browser.close();
await server.close();

const results = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Chromium ${chromium}`,
  ours,
  tfjs,
  page,
  sizes: await sizes(),
  profiles: builds,
  native: { ours: await native('native'), gpu: await native('native-wgpu'), pytorch: await native('pytorch'), keras_reference_epoch_seconds: 7.0 },
  tsne_quality: await native('tsne'),
  visit,
};
await writeFile(join(root, 'bench', 'results.json'), JSON.stringify(results, null, 2));

const f = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const lines = [`Measured ${results.date.slice(0, 10)} on ${results.machine}.`, ''];
lines.push('| what | ours | peer | peer / ours |', '|---|---|---|---|');
const row = (what, a, b, unit, digits = 2) => lines.push(`| ${what} | ${f(a, digits)} ${unit} | ${f(b, digits)} ${unit} | ${f(b / a)}x |`);
for (const batch of [32, 256]) {
  const key = `ms_per_step_batch${batch}`;
  row(`browser step, batch ${batch}: our CPU (wasm) vs TF.js wasm`, ours.cpu[key], tfjs.wasm?.[key], 'ms');
  row(`browser step, batch ${batch}: our WebGPU vs TF.js webgpu (same adapter)`, ours.webgpu[key], tfjs.webgpu?.[key], 'ms');
  const launches = `launches_per_step_batch${batch}`;
  row(`WebGPU kernel launches per step, batch ${batch} (fewer is better)`, ours.webgpu[launches], tfjs.webgpu?.[launches], '', 1);
}
lines.push(`| WebGPU queue submits per step, batch 32 / 256 | ${f(ours.webgpu.submits_per_step_batch32, 1)} / ${f(ours.webgpu.submits_per_step_batch256, 1)} | ${f(tfjs.webgpu?.submits_per_step_batch32, 1)} / ${f(tfjs.webgpu?.submits_per_step_batch256, 1)} | |`);
lines.push(`| WebGPU: validation of the 10k test images | ${f(ours.webgpu.validation_seconds)} s | | |`);
lines.push(`| WebGPU: warm-up (kernel compiles, first step) | ${f(ours.webgpu.warmup_seconds)} s | | |`);
const n = results.native;
if (n.ours && n.pytorch) {
  row('native step, batch 32: our CLI (CPU step, 1 thread) vs PyTorch (1 thread)', n.ours.ms_per_step_batch32, n.pytorch.ms_per_step_batch32, 'ms');
  row('native step, batch 256: our CLI vs PyTorch', n.ours.ms_per_step_batch256, n.pytorch.ms_per_step_batch256, 'ms');
  row('native epoch of 60k + validation: our CLI vs PyTorch', n.ours.epoch_seconds, n.pytorch.epoch_seconds, 's');
}
if (n.gpu) {
  // burn's autodiff step (before) against the fused one (after), on the native wgpu backend.
  for (const batch of [32, 256]) {
    const [before, after] = [`autodiff_batch${batch}`, `fused_batch${batch}`];
    row(`native wgpu (${n.gpu.adapter ?? 'Vulkan'}) step, batch ${batch}: fused vs burn autodiff`, n.gpu[`${after}_ms_per_step`], n.gpu[`${before}_ms_per_step`], 'ms');
    row(`  launches per step, batch ${batch}`, n.gpu[`${after}_launches_per_step`], n.gpu[`${before}_launches_per_step`], '', 1);
    row(`  host-only time per step, batch ${batch}`, n.gpu[`${after}_host_ms_per_step`], n.gpu[`${before}_host_ms_per_step`], 'ms', 3);
  }
  lines.push(`| native wgpu: validation of the 10k test images (fused) | ${f(n.gpu.validation_seconds)} s | | |`);
}
row('epoch of 60k in the browser (ours) vs the chapter\'s Keras, native', page.full_epoch_seconds, n.keras_reference_epoch_seconds, 's', 1);
if (results.tsne_quality) {
  const t = results.tsne_quality;
  row('t-SNE of the 10k codes: ours in the page vs scikit-learn, native', page.tsne_seconds, t.sklearn.seconds, 's', 1);
  lines.push(`| t-SNE trustworthiness (k=10) | ${f(t.ours.trustworthiness, 4)} | ${f(t.sklearn.trustworthiness, 4)} | |`);
  lines.push(`| t-SNE 5-NN accuracy in 2-D | ${f(t.ours.knn_accuracy, 4)} | ${f(t.sklearn.knn_accuracy, 4)} | |`);
} else {
  lines.push(`| t-SNE of the 10k codes in the page | ${f(page.tsne_seconds, 1)} s | | |`);
}
lines.push(`| time to interactive | ${f(page.time_to_interactive_ms, 0)} ms | | |`);
lines.push(`| peak JS heap, 10-epoch session | ${f(page.peak_js_heap_mb, 1)} MB | | |`);
for (const [name, s] of Object.entries(results.sizes)) lines.push(`| release wasm, ${name} | ${f(s.raw_mb)} MB (${f(s.gzip_mb)} MB gzip) | | |`);
// The `serve` build (trunk serve) as the peer of the published `web` one: ratios near 1 mean
// local work trains as fast as visitors do.
row('browser step, batch 32, CPU: `web` build vs `serve` build', builds.web.cpu_ms_per_step_batch32, builds.serve.cpu_ms_per_step_batch32, 'ms');
row('browser step, batch 32, WebGPU: `web` build vs `serve` build', builds.web.webgpu_ms_per_step_batch32, builds.serve.webgpu_ms_per_step_batch32, 'ms');
for (const name of Object.keys(builds.web.sizes)) {
  row(`wasm gzip, ${name}: \`web\` build vs \`serve\` build`, builds.web.sizes[name].gzip_mb, builds.serve.sizes[name]?.gzip_mb, 'MB');
}
// What a visitor meets: the first visit over two networks, and the page's thread while training.
for (const v of visit.visits) {
  lines.push(`| first visit, ${v.network}: first paint / first view drawn / ready | ${f(v.fcp / 1e3)} / ${f(v.firstView / 1e3)} / ${f(v.ready / 1e3)} s | | |`);
  lines.push(`| first visit, ${v.network}: MB over the wire by the first view / after 60 s idle (training shards) | ${f(v.mb_by_first_view)} / ${f(v.mb_after_idle)} MB (${v.training_shards_after_idle}) | | |`);
}
for (const v of visit.visits) lines.push(`| first visit, ${v.network}: the explore tools ready (engine and test images in, at idle) | ${f(v.tools / 1e3)} s | | |`);
// The same visitor again, from the page's offline copy (public/sw.js).
for (const v of visit.visits) {
  lines.push(`| second visit, ${v.network}: first view drawn; KB over the wire by then | ${f(v.second_visit.first_view / 1e3)} s; ${f(v.second_visit.kb_by_first_view, 1)} KB | | |`);
}
lines.push(`| engine on first use (\`prefetch=0\`), 10 Mbit/s: MB after 60 s idle; the tools ready after the first click | ${f(visit.lazy.mb_after_idle)} MB; ${f(visit.lazy.tools_after_first_use / 1e3)} s | | |`);
for (const t of visit.thread) {
  lines.push(`| page thread while training, ${t.backend.split(' ')[0]} batch ${t.batch}: frame p95 / worst, long tasks (longest) | ${f(t.frame_p95_ms, 0)} / ${f(t.worst_frame_ms, 0)} ms, ${t.long_tasks} (${f(t.longest_task_ms, 0)} ms) | | |`);
}
const lh = visit.lighthouse;
lines.push(`| Lighthouse performance (default mobile run, median of ${lh.scores.length}): score; FCP, LCP, TBT, CLS | ${f(lh.score)}; ${f(lh.fcp_ms / 1e3, 1)} s, ${f(lh.lcp_ms / 1e3, 1)} s, ${f(lh.tbt_ms, 0)} ms, ${f(lh.cls, 3)} | | |`);
lines.push('', ...phaseRows(ours.cpu.phases, n.ours));
console.log(lines.join('\n'));
console.log(`\nsession backend: ${page.backend}; TF.js cpu backend: ${JSON.stringify(tfjs.cpu)}`);
