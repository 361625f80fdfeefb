// One run, one browser: our page's training step against TensorFlow.js 4.22 on the same data.
// Needs the release build in dist/ (scripts/test.sh or trunk build --release --public-url ./)
// and `npm ci` here. Prints a table and writes bench/results.json.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { history, launch, serve, waitForState } from '../e2e/harness.mjs';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const server = await serve(root);
const browser = await launch();

/** Seconds of one epoch of `steps` steps (validation included) on our page. */
async function ourEpoch(backend, batch, steps) {
  const page = await browser.newPage();
  const query = `experiment=stacked&epochs=1&batch=${batch}&train_limit=${batch * steps}&backend=${backend}&autostart=1`;
  await page.goto(`${server.url}dist/index.html?${query}`);
  const state = await waitForState(page, ['done', 'error'], 1_200_000);
  const rows = await history(page);
  await page.close();
  if (state !== 'done') throw new Error(`our page ended in ${state}`);
  return rows[0].seconds;
}

/** Our ms per step: the difference of two epoch lengths cancels start-up and validation. */
async function ourStep(backend, batch, [few, many]) {
  const [short, long] = [await ourEpoch(backend, batch, few), await ourEpoch(backend, batch, many)];
  return ((long - short) * 1000) / (many - few);
}

async function theirs() {
  const page = await browser.newPage();
  await page.goto(`${server.url}bench/tfjs/index.html`);
  await page.waitForFunction(() => window.results, null, { timeout: 1_200_000 });
  const results = await page.evaluate(() => window.results);
  await page.close();
  return results;
}

// Our WebGPU runs are opt-in (--webgpu): on a software adapter each epoch's validation alone
// takes half a minute.
const ours = {
  cpu: { ms_per_step_batch32: await ourStep('cpu', 32, [10, 210]), ms_per_step_batch256: await ourStep('cpu', 256, [4, 28]) },
};
if (process.argv.includes('--webgpu')) {
  ours.webgpu = { ms_per_step_batch32: await ourStep('webgpu', 32, [4, 14]), ms_per_step_batch256: await ourStep('webgpu', 256, [2, 6]) };
}
const tfjs = await theirs();
await browser.close();
await server.close();

const rows = [];
for (const [ourBackend, theirBackend] of [['cpu', 'wasm'], ['webgpu', 'webgpu']]) {
  for (const batch of [32, 256]) {
    const key = `ms_per_step_batch${batch}`;
    const [a, b] = [ours[ourBackend]?.[key], tfjs[theirBackend]?.[key]];
    rows.push({ ours: ourBackend, tfjs: theirBackend, batch, ours_ms: a, tfjs_ms: b, speedup: b / a });
  }
}
console.log('| ours | TF.js 4.22 | batch | ours ms/step | TF.js ms/step | TF.js / ours |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.ours} | ${r.tfjs} | ${r.batch} | ${Number.isFinite(r.ours_ms) ? r.ours_ms.toFixed(2) : 'not run'} | ${Number.isFinite(r.tfjs_ms) ? r.tfjs_ms.toFixed(2) : 'n/a'} | ${Number.isFinite(r.speedup) ? r.speedup.toFixed(2) + 'x' : 'n/a'} |`);
}
console.log(`TF.js cpu backend: ${JSON.stringify(tfjs.cpu)}`);
await writeFile(join(root, 'bench', 'results.json'), JSON.stringify({ date: new Date().toISOString(), ours, tfjs, rows }, null, 2));
