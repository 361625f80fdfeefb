// A public page meets every network, browser and visitor: faults in the data, no or a failing
// WebGPU, a diverging run, a long session, impatient clicks, and a strict Content-Security-Policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCKED, CSP, beforeEngine, engineWorker, history, openPage, pageSession, waitForState } from './harness.mjs';

const MINUTE = 60_000;
const session = pageSession();

const loadErrorText = (page) => page.textContent('[data-testid=load-error]');

test('no third-party requests, no inline script, no CSP violation in a whole session', async () => {
  const page = await openPage(session.browser, 'about:blank');
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('worker', (worker) => requests.push(worker.url()));
  await page.goto(`${session.server.url}?experiment=tied&epochs=1&train_limit=512&backend=cpu&autostart=1`);
  assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
  // The t-SNE worker runs under the same policy.
  await page.waitForFunction(() => document.querySelector('[data-testid=embedding-status]').textContent.includes(' s.'), null, { timeout: 5 * MINUTE });
  const origin = new URL(session.server.url).origin;
  const foreign = requests.filter((url) => !url.startsWith(`${origin}/course/demo/`) && !url.startsWith('data:') && !url.startsWith('blob:'));
  assert.deepEqual(foreign, []);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  const response = await page.request.get(session.server.url);
  assert.equal(response.headers()['content-security-policy'], CSP);
  const html = await response.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline script');
  assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/i, 'an inline style or handler');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('train shards that 404, arrive truncated or fail their hash are named; the rest trains; Retry fetches them', async () => {
  const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
  const faults = {
    'train-01.bin.gz': (route) => route.fulfill({ status: 404, body: 'not found' }),
    'train-02.bin.gz': async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, body: (await response.body()).subarray(0, 1000) });
    },
    'train-03.bin.gz': async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      body[body.length >> 1] ^= 0x40;
      await route.fulfill({ response, body });
    },
  };
  for (const [file, fault] of Object.entries(faults)) await page.route(`**/data/fashion-mnist/${file}`, fault);
  await page.goto(`${session.server.url}?experiment=tied&epochs=1&backend=cpu`);
  // The training set comes only when asked for: here before the class, by its button.
  await page.click('[data-testid=fetch-training]');
  await page.waitForSelector('[data-testid=load-error]', { timeout: 2 * MINUTE });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=load-error] li').length === 3, null, { timeout: 2 * MINUTE });
  const message = await loadErrorText(page);
  assert.match(message, /train-01\.bin\.gz: HTTP 404/);
  assert.match(message, /train-02\.bin\.gz.*(expected|bytes)/);
  assert.match(message, /train-03\.bin\.gz: SHA-256/);
  assert.match(message, /training uses the images that did/);
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
  assert.match(await page.textContent('[data-testid=data-progress]'), /40000 \/ 70000 images/);

  // Training goes on with the 30,000 training images that are in.
  await page.click('[data-testid=train]');
  assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
  assert.equal((await history(page)).length, 1);
  assert.match(await page.textContent('[data-testid=status]'), /Done: 1 epoch/);

  // The network recovers: Retry fetches only the three missing shards.
  await page.unrouteAll();
  const fetched = [];
  page.on('request', (r) => fetched.push(r.url().split('/').pop()));
  await page.click('[data-testid=retry]');
  await page.waitForFunction(() => /all loaded/.test(document.querySelector('[data-testid=data-progress]').textContent), null, { timeout: 2 * MINUTE });
  assert.equal(await page.$('[data-testid=load-error]'), null);
  assert.deepEqual(fetched.filter((f) => f.endsWith('.gz')).sort(), ['train-01.bin.gz', 'train-02.bin.gz', 'train-03.bin.gz']);
  assert.match(await page.textContent('[data-testid=data-progress]'), /70000 \/ 70000 images/);
  assert.deepEqual(page.problems.filter((p) => !/404/.test(p)), []);
  await page.close();
});

test('a manifest that is not JSON, or a corrupted test shard, stops the page with the file named until Retry', async () => {
  for (const [pattern, fault, named] of [
    ['**/data/fashion-mnist/manifest.json', (route) => route.fulfill({ status: 200, body: '<html>not json</html>' }), /manifest\.json is not a usable manifest/],
    ['**/data/fashion-mnist/test-00.bin.gz', async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      body[body.length >> 1] ^= 0x40;
      await route.fulfill({ response, body });
    }, /test-00\.bin\.gz: SHA-256/],
  ]) {
    const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
    await page.route(pattern, fault);
    await page.goto(`${session.server.url}?autostart=1`);
    assert.equal(await waitForState(page, ['error', 'done', 'training'], 2 * MINUTE), 'error');
    assert.match(await loadErrorText(page), named);
    assert.match(await loadErrorText(page), /nothing can be trained yet/);
    assert.ok(await page.isDisabled('[data-testid=train]'));
    await page.unrouteAll();
    await page.click('[data-testid=retry]');
    // Fixed: the page starts as the link asked (autostart=1).
    assert.equal(await waitForState(page, ['training', 'done'], 2 * MINUTE), 'training');
    await page.click('[data-testid=stop]');
    assert.equal(await waitForState(page, ['done'], 2 * MINUTE), 'done');
    await page.close();
  }
});

test('no WebGPU, or a WebGPU that refuses a device: the CPU trains, and the page says why', async () => {
  // WebGPU lives in the engine's worker: each fault is set up there.
  for (const [setup, query, why] of [
    [() => Object.defineProperty(WorkerNavigator.prototype, 'gpu', { get: () => undefined }), '', /no WebGPU/],
    [() => { GPU.prototype.requestAdapter = async () => null; }, '', /found no usable adapter/],
    [() => { GPUAdapter.prototype.requestDevice = () => Promise.reject(new Error('refused by the test')); }, 'backend=webgpu&', /WebGPU failed to start/],
  ]) {
    const page = await session.browser.newPage(BLOCKED);
    page.problems = [];
    page.on('pageerror', (error) => page.problems.push(error.message));
    await beforeEngine(page, setup);
    await page.goto(`${session.server.url}?${query}experiment=tied&epochs=1&train_limit=256&autostart=1`);
    assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done', why.source);
    assert.match(await page.textContent('[data-testid=backend]'), /CPU/);
    assert.match(await page.textContent('.backend .why'), why);
    assert.deepEqual(page.problems, []);
    await page.close();
  }
});

test('losing the GPU mid-training: training goes on on the CPU from the last epoch, history kept', async () => {
  const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
  // The engine's worker keeps its GPU devices where the test can reach them.
  await beforeEngine(page, () => {
    self.gpuDevices = [];
    const request = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (...args) {
      const device = await request.apply(this, args);
      self.gpuDevices.push(device);
      return device;
    };
  });
  await page.goto(`${session.server.url}?experiment=tied&epochs=3&train_limit=64&backend=webgpu&autostart=1`);
  // Lose the device while epoch 2 is paused: the weights after epoch 1 (or, if the pause
  // lands late, epoch 2) were read back by then.
  await page.waitForFunction(() => /^Epoch 2/.test(document.querySelector('[data-testid=status]')?.textContent ?? ''), null, { timeout: 10 * MINUTE });
  await page.click('[data-testid=pause]');
  await page.waitForFunction(() => document.querySelector('[data-testid=pause]').textContent === 'Resume');
  await (await engineWorker(page)).evaluate(() => self.gpuDevices.forEach((device) => device.destroy()));
  await page.click('[data-testid=pause]');
  assert.equal(await waitForState(page, ['done', 'error'], 10 * MINUTE), 'done', await page.textContent('[data-testid=status]'));
  assert.deepEqual((await history(page)).map((r) => r.epoch), [1, 2, 3]);
  assert.match(await page.textContent('[data-testid=backend]'), /CPU/);
  // The backend's words depend on which call meets the lost device first ("Device was
  // destroyed", "the staging buffer could not be mapped"); they are one line either way.
  assert.match(await page.textContent('[data-testid=notices]'), /WebGPU failed during training \([^\n]+\); training went on on the CPU from the weights after epoch [12]\./);
  await page.close();
});

test('a diverging learning rate stops the run with a message and leaves no broken model', async () => {
  const page = await openPage(session.browser, `${session.server.url}?experiment=stacked&lr=100&epochs=3&train_limit=2048&backend=cpu&autostart=1`);
  assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'error');
  const message = await page.textContent('[data-testid=error]');
  assert.match(message, /the loss became (NaN|inf|[\d.]+|\d\.\de\d+) at epoch 1, step \d+: training diverged, so it stopped and kept the weights of the last finished epoch; try a smaller learning rate\. No epoch had finished, so there is no model to show\./);
  // No epoch finished: nothing half-trained is offered for saving; a new run can start.
  assert.deepEqual(await history(page), []);
  assert.ok(await page.isDisabled('[data-testid=save-weights]'));
  assert.ok(await page.isEnabled('[data-testid=train]'));
  await page.fill('label:has-text("learning rate") input', '1.5');
  await page.press('label:has-text("learning rate") input', 'Enter');
  await page.click('[data-testid=train]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] tbody tr').length >= 1, null, { timeout: 5 * MINUTE });
  await page.click('[data-testid=stop]');
  assert.equal(await waitForState(page, ['done', 'error'], MINUTE), 'done');
  // It learns (an untrained model's loss is about 0.69).
  const [first] = await history(page);
  assert.ok(first.valLoss < 0.6, JSON.stringify(first));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('Stop, restart and switching while training or mapping never leaves two runs writing', async () => {
  const page = await openPage(session.browser, `${session.server.url}?experiment=tied&epochs=3&train_limit=2048&backend=cpu&autostart=1`);
  // Stop in epoch 2 (epoch 3 is the margin before the run would end by itself) and start
  // again at once: the second run owns the charts.
  await page.waitForFunction(() => /^Epoch 2/.test(document.querySelector('[data-testid=status]')?.textContent ?? ''), null, { timeout: 5 * MINUTE });
  await page.click('[data-testid=stop]');
  await page.waitForFunction(() => !document.querySelector('[data-testid=train]').disabled, null, { timeout: MINUTE });
  await page.click('[data-testid=train]');
  await page.waitForFunction(() => document.body.dataset.state === 'training');
  // What a run was started with cannot change under it: the settings and loading weights are
  // locked until it ends.
  const controls = await page.evaluate(() => [...document.querySelectorAll('fieldset.experiments, .settings input, [data-testid=load-weights]')]
    .map((e) => ({ html: e.outerHTML.slice(0, 60), disabled: e.disabled })));
  assert.ok(controls.length >= 6, JSON.stringify(controls)); // experiments, epochs, batch, rate, seed, weights
  assert.deepEqual(controls.filter((c) => !c.disabled), []);
  assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
  assert.deepEqual((await history(page)).map((r) => r.epoch), [1, 2, 3]);
  await page.waitForTimeout(1000);
  assert.deepEqual((await history(page)).map((r) => r.epoch), [1, 2, 3], 'the stopped run wrote after the new one');

  // Switch experiment while t-SNE maps the run: the pretrained model's map stays.
  await page.waitForFunction(() => /iteration \d+ of/.test(document.querySelector('[data-testid=embedding-status]').textContent), null, { timeout: MINUTE });
  await page.click('label.experiment:has-text("stacked")');
  await page.waitForFunction(() => /Pretrained: stacked/.test(document.querySelector('[data-testid=shown]').textContent), null, { timeout: MINUTE });
  await page.waitForFunction(() => /pretrained model/.test(document.querySelector('[data-testid=embedding-status]').textContent));
  await page.waitForTimeout(3000);
  assert.match(await page.textContent('[data-testid=embedding-status]'), /pretrained model/);

  // Clicking through the experiments faster than they load: the last one picked is shown.
  for (const e of ['denoising', 'dropout', 'tied', 'stacked', 'dropout']) await page.click(`label.experiment:has-text("${e}")`);
  await page.waitForFunction(() => /Pretrained: dropout/.test(document.querySelector('[data-testid=shown]').textContent), null, { timeout: MINUTE });
  await page.waitForTimeout(2000);
  assert.match(await page.textContent('[data-testid=shown]'), /Pretrained: dropout/);
  assert.match(await page.textContent('.row-labels'), /what the model sees/);
  assert.equal((await history(page)).length, 10);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a t-SNE worker stopped while its script still loads leaves no error behind', async () => {
  // Chromium fires an error event at a worker terminated during importScripts, after
  // terminate() has returned: the page must have let go of the worker before that. The test
  // holds the worker's script in the network so the switch surely lands while it loads.
  const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let loading;
  const workerLoading = new Promise((resolve) => { loading = resolve; });
  await page.route('**/tsne_worker.js', async (route) => {
    loading();
    await held;
    await route.continue().catch(() => {}); // the worker that asked is gone
  });
  await page.goto(`${session.server.url}?experiment=tied&epochs=1&train_limit=512&backend=cpu&autostart=1`);
  assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
  await workerLoading;
  await page.click('label.experiment:has-text("stacked")');
  await page.waitForFunction(() => /Pretrained: stacked/.test(document.querySelector('[data-testid=shown]').textContent), null, { timeout: MINUTE });
  release();
  await page.waitForTimeout(2000);
  assert.match(await page.textContent('[data-testid=embedding-status]'), /pretrained model/);
  assert.equal(await page.evaluate(() => document.querySelector('[data-testid=error]')?.textContent.trim() ?? ''), '');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a long session: four experiments, ten epochs each, keeps memory flat', async () => {
  const page = await openPage(session.browser, `${session.server.url}?epochs=10&train_limit=1024&backend=cpu`);
  await waitForState(page, ['ready'], 2 * MINUTE);
  await page.click('[data-testid=fetch-training]');
  await page.waitForFunction(() => /all loaded/.test(document.querySelector('[data-testid=data-progress]').textContent), null, { timeout: 2 * MINUTE });
  const cdp = await page.context().newCDPSession(page);
  const engine = await engineWorker(page);
  const measure = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    const wasm = await page.evaluate(() => window.wasm.memory.buffer.byteLength);
    // The engine trains in its worker: its memory must stay flat too.
    const engineWasm = await engine.evaluate(() => self.engine.memory.buffer.byteLength);
    return { heap: usedSize, wasm, engineWasm };
  };
  const after = [];
  for (const experiment of ['stacked', 'tied', 'denoising', 'dropout']) {
    await page.click(`label.experiment:has-text("${experiment}")`);
    await page.waitForFunction((e) => document.querySelector('[data-testid=shown]')?.textContent.includes(`Pretrained: ${e}`), experiment, { timeout: MINUTE });
    await page.click('[data-testid=train]');
    assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
    assert.equal((await history(page)).length, 10);
    await page.waitForFunction(() => document.querySelector('[data-testid=embedding-status]').textContent.includes(' s.'), null, { timeout: 5 * MINUTE });
    after.push(await measure());
  }
  const mb = (bytes) => (bytes / 1e6).toFixed(1);
  console.log(`after each experiment: JS heap ${after.map((m) => mb(m.heap)).join(', ')} MB; wasm memory ${after.map((m) => mb(m.wasm)).join(', ')} MB; engine wasm memory ${after.map((m) => mb(m.engineWasm)).join(', ')} MB`);
  // The first run warms up the allocators; after it nothing may grow with the runs.
  const heapGrowth = after[3].heap - after[0].heap;
  const wasmGrowth = after[3].wasm - after[0].wasm;
  assert.ok(heapGrowth < 2e6, `the JS heap grew ${mb(heapGrowth)} MB over three more runs`);
  assert.ok(wasmGrowth < 8e6, `wasm memory grew ${mb(wasmGrowth)} MB over three more runs`);
  const engineGrowth = after[3].engineWasm - after[0].engineWasm;
  assert.ok(engineGrowth < 8e6, `the engine's wasm memory grew ${mb(engineGrowth)} MB over three more runs`);
  assert.deepEqual(page.problems, []);
  await page.close();
});
