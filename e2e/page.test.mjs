// The page end to end: train in headless Chromium on each backend, and fail clearly on bad data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dotOnMap, history, inkShare, longestTaskSince, openPage, pageSession, screenshot, waitForState } from './harness.mjs';

const TEN_MINUTES = 600_000;
const session = pageSession();

async function trainsDenoising(backend, expectedLabel) {
  const query = `experiment=denoising&epochs=1&train_limit=2048&autostart=1${backend ? `&backend=${backend}` : ''}`;
  const page = await openPage(session.browser, `${session.server.url}?${query}`);
  const state = await waitForState(page, ['done', 'error'], TEN_MINUTES);
  await screenshot(page, `denoising-${backend ?? 'auto'}`);
  const error = await page.$eval('[data-testid=error]', (e) => e.textContent).catch(() => null);
  assert.equal(state, 'done', `page ended in ${state}: ${error}; ${page.problems.join('; ')}`);

  const label = await page.textContent('[data-testid=backend]');
  assert.match(label, expectedLabel);
  const rows = await history(page);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  const [row] = rows;
  for (const value of Object.values(row)) assert.ok(Number.isFinite(value), JSON.stringify(row));
  assert.ok(row.valLoss < 0.55, `val loss ${row.valLoss}`);
  assert.ok(row.valAcc > 0.7, `val rounded accuracy ${row.valAcc}`);
  for (const canvas of ['loss-chart', 'accuracy-chart', 'reconstructions']) {
    assert.ok((await inkShare(page, canvas)) > 0.01, `${canvas} is blank`);
  }
  // Denoising shows three rows: original, noisy input, reconstruction.
  assert.match(await page.textContent('.row-labels'), /what the model sees/);
  assert.deepEqual(page.problems, []);
  await page.close();
  return row;
}

test('trains the denoising autoencoder on the automatically chosen backend', async () => {
  const row = await trainsDenoising(null, /CPU|WebGPU/);
  console.log(`auto: ${JSON.stringify(row)}`);
});

test('trains on the CPU backend when the URL asks for it', async () => {
  const row = await trainsDenoising('cpu', /CPU/);
  console.log(`cpu: ${JSON.stringify(row)}`);
});

test('maps the test codes with t-SNE while the page stays responsive', async () => {
  const page = await openPage(session.browser, `${session.server.url}?experiment=tied&epochs=1&train_limit=4096&backend=cpu&autostart=1`);
  await waitForState(page, ['training', 'done', 'error'], 120_000);
  const trainingStarted = await page.evaluate(() => performance.now());
  assert.equal(await waitForState(page, ['done', 'error'], TEN_MINUTES), 'done');
  await page.waitForFunction(
    () => document.querySelector('[data-testid=embedding-status]').textContent.includes(' s.'),
    null,
    { timeout: TEN_MINUTES },
  );
  const mapped = await page.textContent('[data-testid=embedding-status]');
  console.log(mapped);
  assert.match(mapped, /t-SNE of the 10000 test codes, 1000 iterations in [\d.]+ s/);
  assert.ok((await inkShare(page, 'embedding')) > 0.01, 'the map is blank');

  // The chapter's "pretty" view: thumbnails darken the map.
  const dotsOnly = await inkShare(page, 'embedding');
  await page.check('text=show images');
  await page.waitForTimeout(500);
  assert.ok((await inkShare(page, 'embedding')) > dotsOnly * 1.2, 'no thumbnails drawn');

  // Hovering a dot shows its image and class.
  const hit = await dotOnMap(page);
  assert.ok(hit, 'no dot found');
  await page.mouse.move(hit.x + 0.5, hit.y + 0.5);
  await page.waitForTimeout(300);
  assert.match(await page.textContent('.preview span'), /test image \d+: /);
  await screenshot(page, 'embedding');

  const longest = await longestTaskSince(page, trainingStarted);
  console.log(`longest main-thread task while training and mapping: ${longest.toFixed(0)} ms`);
  console.log(JSON.stringify(await page.evaluate((t) => window.longTasks.filter((e) => e.start >= t && e.duration > 100).map((e) => [Math.round(e.start - t), Math.round(e.duration)]), trainingStarted)));
  assert.ok(longest < 250, `the page froze for ${longest} ms`);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('trains on WebGPU when the URL asks for it', async () => {
  const row = await trainsDenoising('webgpu', /WebGPU/);
  console.log(`webgpu: ${JSON.stringify(row)}`);
});

test('a bad URL parameter is explained and falls back to its default', async () => {
  const page = await openPage(session.browser, `${session.server.url}?epochs=lots&experiment=tied`);
  await waitForState(page, ['ready', 'error'], 120_000);
  const notices = await page.textContent('[data-testid=notices]');
  assert.match(notices, /epochs="lots" ignored/);
  assert.equal(await page.inputValue('input[type=number] >> nth=0'), '10');
  assert.ok(await page.isChecked('input[value=tied]'));
  await page.close();
});

test('Pause holds training, Resume continues it, Stop ends it and keeps the results', async () => {
  const page = await openPage(session.browser, `${session.server.url}?experiment=stacked&epochs=5&train_limit=8000&backend=cpu&autostart=1`);
  await waitForState(page, ['training'], 120_000);
  await page.waitForFunction(() => /step \d+ of/.test(document.querySelector('[data-testid=status]').textContent));
  await page.click('[data-testid=pause]');
  await page.waitForFunction(() => document.querySelector('[data-testid=status]').textContent.startsWith('Paused'));
  const pausedAt = await page.textContent('[data-testid=status]');
  await page.waitForTimeout(1500);
  assert.equal(await page.textContent('[data-testid=status]'), pausedAt, 'training went on while paused');
  assert.equal(await page.textContent('[data-testid=pause]'), 'Resume');

  await page.click('[data-testid=pause]');
  await page.waitForFunction((before) => document.querySelector('[data-testid=status]').textContent !== before, pausedAt);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] tbody tr').length >= 1, null, { timeout: 120_000 });
  await page.click('[data-testid=stop]');
  assert.equal(await waitForState(page, ['done', 'error'], 60_000), 'done');
  const rows = await history(page);
  assert.ok(rows.length >= 1 && rows.length < 5, `${rows.length} epochs`);
  assert.ok((await inkShare(page, 'reconstructions')) > 0.01, 'reconstructions were cleared');
  assert.ok(await page.isEnabled('[data-testid=train]'), 'cannot train again');
  assert.deepEqual(page.problems, []);
  await page.close();
});
