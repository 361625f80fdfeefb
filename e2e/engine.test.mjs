// The page's two threads: a shell that draws at once from the pretrained model's pack, and an
// engine in a worker that comes when the page is idle and fetches the data only as it is
// needed. What a visitor who only looks downloads, a run whose shards arrive late, an engine
// that fails to load, and the page's own thread while a model trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCKED, history, inkShare, openPage, pageSession, waitForInk, waitForState } from './harness.mjs';

const MINUTE = 60_000;
const session = pageSession();

const shard = (url) => url.match(/(test|train)-\d+\.bin\.gz$/)?.[0];

test('the first view is drawn from the pack alone, before the engine has arrived', async () => {
  const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
  // Hold the engine's wasm: nothing of the first view may wait for it.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/engine_bg.wasm', async (route) => {
    await held;
    await route.continue().catch(() => {});
  });
  await page.goto(session.server.url);
  await waitForState(page, ['ready'], MINUTE);
  for (const canvas of ['loss-chart', 'accuracy-chart', 'reconstructions', 'embedding']) await waitForInk(page, canvas, MINUTE);
  assert.match(await page.textContent('[data-testid=shown]'), /Pretrained: stacked/);
  assert.equal((await history(page)).length, 10);
  assert.equal(await page.$('#skeleton'), null, 'the skeleton stays');
  release();
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a visitor who only looks never downloads the training set', async () => {
  const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
  const fetched = [];
  page.on('requestfinished', (request) => fetched.push(request.url()));
  await page.goto(session.server.url);
  await waitForState(page, ['ready'], MINUTE);
  // At idle the engine comes, and the test images the tools draw: the codes' lessons follow.
  await page.waitForFunction(() => /\d+\.\d%.*\d+\.\d%/.test(document.querySelector('[data-testid=knn]')?.textContent ?? ''), null, { timeout: 2 * MINUTE });
  await page.waitForTimeout(3000);
  assert.deepEqual(fetched.map(shard).filter(Boolean), ['test-00.bin.gz']);
  assert.ok(fetched.some((url) => url.endsWith('/engine_bg.wasm')), 'the engine was not fetched at idle');
  assert.match(await page.textContent('.training-later'), /The training images \(\d+\.\d MB\) are fetched when you train/);
  // Training asks for them, and only for the shards the run uses.
  const query = new URL(page.url());
  await page.goto(`${query.origin}${query.pathname}?epochs=1&train_limit=2048&backend=cpu&autostart=1`);
  assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
  assert.deepEqual(fetched.map(shard).filter((f) => f?.startsWith('train')), ['train-00.bin.gz']);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a run starts with the first training shard and takes in the others as they arrive', async () => {
  const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
  const arrived = {};
  // A slow link: the first training shard comes after 2 s, the second once epoch 2 trains.
  const epochTwo = () => page.waitForFunction(() => /^Epoch 2 of/.test(document.querySelector('[data-testid=status]')?.textContent ?? ''), null, { timeout: 5 * MINUTE, polling: 20 });
  for (const [file, wait] of [['train-00.bin.gz', () => new Promise((resolve) => setTimeout(resolve, 2000))], ['train-01.bin.gz', epochTwo]]) {
    await page.route(`**/data/fashion-mnist/${file}`, async (route) => {
      await wait();
      arrived[file] = Date.now();
      await route.continue();
    });
  }
  await page.goto(`${session.server.url}?experiment=tied&epochs=4&train_limit=20000&backend=cpu&autostart=1`);
  await waitForState(page, ['training'], 2 * MINUTE);
  const trainingFrom = Date.now();
  // Each epoch's steps, as the status line counts them: each epoch trains on what is in.
  const steps = {};
  while (!['done', 'error'].includes(await page.evaluate(() => document.body.dataset.state))) {
    const status = await page.textContent('[data-testid=status]');
    const [, epoch, of] = status.match(/^Epoch (\d+) of \d+, step \d+ of (\d+)/) ?? [];
    if (epoch) steps[epoch] = Number(of);
    await page.waitForTimeout(50);
  }
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'done');
  assert.ok(trainingFrom < arrived['train-01.bin.gz'], 'training waited for the second shard');
  assert.deepEqual((await history(page)).map((r) => r.epoch), [1, 2, 3, 4]);
  // 10,000 images (313 steps of 32) at first; 20,000 (625 steps) two epochs after the second
  // shard was let through.
  assert.equal(steps[1], 313, JSON.stringify(steps));
  assert.equal(steps[4], 625, JSON.stringify(steps));
  assert.match(await page.textContent('[data-testid=data-progress]'), /30000 \/ 70000 images/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a run still waiting for its data can be stopped', async () => {
  const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
  // The training shard never comes.
  await page.route('**/data/fashion-mnist/train-00.bin.gz', () => {});
  await page.goto(`${session.server.url}?experiment=tied&epochs=1&train_limit=2048&backend=cpu&autostart=1`);
  // The stop button is there once the shell has replaced the skeleton, and usable once the run is asked for.
  await page.waitForFunction(() => document.querySelector('[data-testid=stop]')?.disabled === false, null, { timeout: MINUTE });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'loading');
  await page.click('[data-testid=stop]');
  assert.equal(await waitForState(page, ['done', 'error'], MINUTE), 'done');
  assert.ok(await page.isEnabled('[data-testid=train]'), 'cannot train again');
  assert.deepEqual(await history(page), []);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('an engine that cannot load is named on the page, and Train says so instead of waiting', async () => {
  const page = await openPage(session.browser, 'about:blank', undefined, BLOCKED);
  await page.route('**/engine_bg.wasm', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto(`${session.server.url}?experiment=tied`);
  await waitForState(page, ['ready'], MINUTE);
  // The first view needs no engine; the engine's failure at idle is reported, not hidden.
  await waitForInk(page, 'reconstructions', MINUTE);
  await page.waitForFunction(() => /engine stopped/.test(document.querySelector('[data-testid=error]')?.textContent ?? ''), null, { timeout: MINUTE });
  await page.click('[data-testid=train]');
  assert.equal(await waitForState(page, ['error', 'training', 'done'], MINUTE), 'error');
  assert.match(await page.textContent('[data-testid=error]'), /engine stopped \(the engine failed: /);
  assert.ok(await page.isEnabled('[data-testid=train]'), 'Train stays usable for when the network is back');
  await page.close();
});

test('the page\'s own thread stays free while a model trains', async () => {
  const page = await openPage(session.browser, 'about:blank');
  await page.addInitScript(() => {
    window.frameTimes = [];
    const tick = (t) => { window.frameTimes.push(t); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  await page.goto(`${session.server.url}?experiment=stacked&epochs=1&train_limit=10000&backend=cpu&autostart=1`);
  await waitForState(page, ['training'], 2 * MINUTE);
  const since = await page.evaluate(() => performance.now());
  assert.equal(await waitForState(page, ['done', 'error'], 5 * MINUTE), 'done');
  const { gaps, tasks } = await page.evaluate((t) => {
    const frames = window.frameTimes.filter((f) => f >= t);
    const gaps = frames.slice(1).map((f, i) => f - frames[i]).sort((a, b) => a - b);
    return { gaps, tasks: window.longTasks.filter((e) => e.start >= t).map((e) => e.duration) };
  }, since);
  const p95 = gaps[Math.floor(gaps.length * 0.95)];
  console.log(`while training on the CPU: ${gaps.length} frames, p95 ${p95.toFixed(1)} ms, worst ${gaps.at(-1).toFixed(1)} ms; long tasks ${JSON.stringify(tasks.map(Math.round))}`);
  // The engine trains in its worker: no task on the page's thread comes near the old 100+ ms.
  assert.ok(Math.max(0, ...tasks) < 100, `a ${Math.max(...tasks)} ms task on the page's thread`);
  assert.ok((await inkShare(page, 'loss-chart')) > 0.01);
  assert.deepEqual(page.problems, []);
  await page.close();
});
