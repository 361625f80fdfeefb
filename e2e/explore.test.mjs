// Exploring what the models learned: the latent tools, the comparison of the four experiments,
// the colour-blind-safe palette, a 360 px iframe, and keyboard use with every control labelled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ARTIFACTS, BLOCKED, dotOnMap, inkShare, openPage, pageSession, pixelsOfColor, screenshot, settled, waitForInk, waitForState,
} from './harness.mjs';

const MINUTE = 60_000;
const session = pageSession();

/** The page with the pretrained model of `experiment` shown. */
async function pretrained(experiment, extra = '', viewport) {
  const page = await openPage(session.browser, `${session.server.url}?experiment=${experiment}${extra}`, viewport);
  await waitForState(page, ['ready'], 2 * MINUTE);
  await page.waitForFunction((e) => document.querySelector('[data-testid=shown]')?.textContent.includes(`Pretrained: ${e}`), experiment, { timeout: 2 * MINUTE });
  return page;
}

/** Keeps a screenshot for the README's docs/ (as well as the artifacts). */
async function docScreenshot(page, name, locator) {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `docs-${name}.png`);
  await (locator ? page.locator(locator).screenshot({ path }) : page.screenshot({ path, fullPage: true }));
  if (process.env.UPDATE_DOCS) await copyFile(path, new URL(`../docs/${name}.png`, import.meta.url));
}

const caption = (page) => page.textContent('[data-testid=picked] .caption');
const codeValues = (page) => page.textContent('[data-testid=code-values]');

test('latent tools: pick by number or on the map, corrupt, walk between codes, draw your own', async () => {
  const page = await pretrained('denoising');

  // Test image 0 is picked at first: its image, reconstruction and 32-number code.
  await waitForInk(page, 'picked-images');
  assert.match(await caption(page), /test image 0: Ankle boot/);
  const code0 = (await codeValues(page)).trim().split(/\s+/).map(Number);
  assert.equal(code0.length, 32);
  assert.ok(code0.every(Number.isFinite) && code0.every((v) => v >= 0) && code0.some((v) => v > 0), String(code0));

  // Another image by number; its code differs.
  await page.fill('[data-testid=picked-index]', '42');
  await page.press('[data-testid=picked-index]', 'Enter');
  await page.waitForFunction(() => /test image 42:/.test(document.querySelector('[data-testid=picked] .caption').textContent));
  await page.waitForFunction((before) => document.querySelector('[data-testid=code-values]').textContent !== before, code0.join(' '));

  // A click on a dot of the map picks that image, and the map rings it.
  await page.waitForFunction(() => /pretrained model/.test(document.querySelector('[data-testid=embedding-status]').textContent));
  await page.locator('[data-testid=embedding]').scrollIntoViewIfNeeded();
  const dot = await dotOnMap(page);
  assert.ok(dot, 'no dot found');
  await page.mouse.click(dot.x, dot.y);
  await page.waitForFunction(() => !/test image 42:/.test(document.querySelector('[data-testid=picked] .caption').textContent));
  const picked = Number(await page.inputValue('[data-testid=picked-index]'));
  assert.match(await caption(page), new RegExp(`test image ${picked}: `));
  assert.ok((await settled(() => pixelsOfColor(page, 'embedding', '#111111', 10), (n) => n > 10)) > 10, 'the picked dot is not ringed');

  // The noise slider: more noise, more ink in what the model sees.
  await waitForInk(page, 'noise-images');
  await page.fill('[data-testid=noise-stddev]', '0');
  await page.waitForFunction(() => /noise stddev 0\.00/.test(document.querySelector('[data-testid=noise-images]').getAttribute('aria-label')));
  await page.waitForTimeout(500);
  // The left image is what the model sees: grey levels of its 28x28 pixels.
  const seen = () => page.$eval('[data-testid=noise-images]', (c) => [...c.getContext('2d').getImageData(0, 0, 28, 28).data].filter((_, i) => i % 4 === 0));
  const clean = await seen();
  const cleanPixels = await page.$eval('[data-testid=noise-images]', (c) => c.toDataURL());
  await page.fill('[data-testid=noise-stddev]', '1');
  await page.waitForFunction((before) => document.querySelector('[data-testid=noise-images]').toDataURL() !== before, cleanPixels);
  await page.waitForTimeout(300);
  const noisy = await seen();
  const changed = noisy.filter((v, i) => Math.abs(v - clean[i]) > 40).length / noisy.length;
  assert.ok(changed > 0.3, `noise of stddev 1 changed only ${changed} of the pixels`);
  assert.match(await page.getAttribute('[data-testid=noise-images]', 'aria-label'), /noise stddev 1\.00/);
  await page.fill('[data-testid=noise-stddev]', '0.3');
  await page.fill('[data-testid=dropout-rate]', '0.5');
  await page.waitForTimeout(400);

  // The walk between two codes: nine decoded images, from one test image to another.
  await waitForInk(page, 'walk-images');
  const firstWalk = await page.$eval('[data-testid=walk-images]', (c) => c.toDataURL());
  await page.fill('[data-testid=walk-to]', '7');
  await page.press('[data-testid=walk-to]', 'Enter');
  await page.waitForFunction(() => /test images 0 and 7/.test(document.querySelector('[data-testid=walk-images]').getAttribute('aria-label')));
  await page.waitForFunction((before) => document.querySelector('[data-testid=walk-images]').toDataURL() !== before, firstWalk);
  const walkColumns = await page.$eval('[data-testid=walk-images]', (c) => c.width);
  assert.equal(walkColumns, 9 * 28 + 8 * 2);

  // Draw a picture: it is encoded, reconstructed and placed on the map.
  await page.locator('[data-testid=pad]').scrollIntoViewIfNeeded();
  const pad = await page.locator('[data-testid=pad]').boundingBox();
  await page.mouse.move(pad.x + pad.width * 0.25, pad.y + pad.height * 0.3);
  await page.mouse.down();
  for (let step = 0; step <= 20; step++) {
    await page.mouse.move(pad.x + pad.width * (0.25 + step * 0.025), pad.y + pad.height * (0.3 + (step % 2) * 0.4));
  }
  await page.mouse.up();
  await waitForInk(page, 'drawn-reconstruction');
  await page.waitForFunction(() => /lands among/.test(document.querySelector('[data-testid=drawn-place]').textContent));
  assert.match(await page.textContent('[data-testid=drawn-place]'), /lands among [A-Z][\w/-]+ \(\d+\)/);
  assert.ok((await settled(() => pixelsOfColor(page, 'embedding', '#dd0000', 12), (n) => n > 10)) > 10, 'no mark where the drawing lands');
  await docScreenshot(page, 'screenshot-explore', 'section.explore');
  await docScreenshot(page, 'screenshot-map-marks', 'section.embed');

  // Clearing the pad clears the result.
  await page.click('[data-testid=pad-clear]');
  await page.waitForFunction(() => /Draw a shoe/.test(document.querySelector('[data-testid=drawn-place]').textContent));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('compare: the four experiments side by side with curves, figures, parameters and reconstructions', async () => {
  const page = await pretrained('stacked');
  await page.click('[data-testid=compare]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=compare-table] tbody tr').length === 4, null, { timeout: 2 * MINUTE });
  const rows = await page.$$eval('[data-testid=compare-table] tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
  assert.deepEqual(rows.map((r) => r[0]), ['stacked', 'tied', 'denoising', 'dropout']);
  assert.deepEqual(rows.map((r) => r[2]), ['222,384', '111,792', '111,792', '111,792']);
  for (const row of rows) {
    assert.equal(row[1], 'pretrained');
    assert.equal(row[3], '10');
    const [loss, accuracy] = [Number(row[4]), Number(row[5])];
    assert.ok(loss > 0.25 && loss < 0.32 && accuracy > 0.91 && accuracy < 0.95, row.join(' | '));
  }
  await waitForInk(page, 'compare-loss');
  await waitForInk(page, 'compare-accuracy');
  const blank = await page.$$eval('.compare-images', (canvases) => canvases.filter((c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    for (let i = 0; i < data.length; i += 4) if (data[i] < 250) return false;
    return true;
  }).length);
  assert.equal(blank, 0, 'a comparison has no reconstructions');
  await docScreenshot(page, 'screenshot-compare', 'section.compare');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the colour-blind-safe palette is an option, and in the link', async () => {
  const page = await pretrained('tied');
  await page.waitForFunction(() => /pretrained model/.test(document.querySelector('[data-testid=embedding-status]').textContent));
  await waitForInk(page, 'embedding');
  // tab10's blue at first; Tableau's colour-blind ten after the switch.
  assert.ok((await pixelsOfColor(page, 'embedding', '#1f77b4', 2)) > 50);
  await page.check('[data-testid=safe-colors]');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('palette') === 'safe');
  await page.waitForTimeout(300);
  assert.equal(await pixelsOfColor(page, 'embedding', '#1f77b4', 2), 0);
  assert.ok((await pixelsOfColor(page, 'embedding', '#1170aa', 2)) > 50);
  assert.equal(await page.$eval('.legend .swatch', (s) => getComputedStyle(s).backgroundColor), 'rgb(17, 112, 170)');
  await docScreenshot(page, 'screenshot-safe-colours', 'section.embed');
  await page.close();

  const linked = await pretrained('tied', '&palette=safe');
  assert.ok(await linked.isChecked('[data-testid=safe-colors]'));
  assert.deepEqual(linked.problems, []);
  await linked.close();
});

test('fits an iframe 360 px wide without sideways scrolling', async () => {
  // A course page on the same site embeds it.
  const host = await openPage(session.browser, 'about:blank', { width: 400, height: 900 }, BLOCKED);
  const course = `${session.server.url}course-page.html`;
  await host.route(course, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><title>Course</title><iframe src="./?experiment=dropout&hide=header" width="360" height="2400" title="Stacked autoencoders"></iframe>`,
  }));
  await host.goto(course);
  const frame = await (await host.waitForSelector('iframe')).contentFrame();
  await frame.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 2 * MINUTE });
  await frame.waitForFunction(() => document.querySelector('[data-testid=shown]')?.textContent.includes('Pretrained: dropout'), null, { timeout: 2 * MINUTE });
  await frame.waitForTimeout(500);
  const widths = await frame.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(widths.scroll <= widths.client, `the page is ${widths.scroll} px wide in a ${widths.client} px frame`);
  // Every panel fits; the buttons are all on screen.
  const overflowing = await frame.$$eval('section.panel, button', (els) => els.filter((e) => !e.closest('.omitted') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map((e) => e.className || e.textContent));
  assert.deepEqual(overflowing, []);
  await host.setViewportSize({ width: 360, height: 2400 });
  await docScreenshot(host, 'screenshot-360px');
  await host.close();
});

test('every control has a label and works from the keyboard', async () => {
  const page = await pretrained('stacked');
  const unnamed = await page.$$eval('input, button, select, textarea', (els) => els
    .filter((el) => !el.closest('.omitted'))
    .filter((el) => !((el.getAttribute('aria-label') ?? '').trim() || [...(el.labels ?? [])].some((l) => l.textContent.trim()) || el.textContent.trim()))
    .map((el) => el.outerHTML.slice(0, 100)));
  assert.deepEqual(unnamed, []);
  const undescribed = await page.$$eval('canvas', (els) => els
    .filter((c) => !c.closest('.omitted') && c.getAttribute('aria-hidden') !== 'true' && !(c.getAttribute('role') === 'img' && c.getAttribute('aria-label')))
    .map((c) => c.outerHTML.slice(0, 100)));
  assert.deepEqual(undescribed, []);

  // Tab reaches every tool.
  const reached = new Set();
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.dataset?.testid ?? document.activeElement?.tagName));
  }
  for (const id of ['train', 'save-weights', 'load-weights', 'copy-link', 'safe-colors', 'picked-index', 'noise-stddev', 'dropout-rate', 'walk-from', 'walk-to', 'pad-copy', 'compare']) {
    assert.ok(reached.has(id), `Tab never reaches ${id}: ${[...reached].join(', ')}`);
  }
  // The keyboard alone: pick an image by number, raise the noise with the arrow keys, and
  // copy the picked image to the drawing pad.
  await page.focus('[data-testid=picked-index]');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('1234');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /test image 1234:/.test(document.querySelector('[data-testid=picked] .caption').textContent));
  await page.focus('[data-testid=noise-stddev]');
  const before = Number(await page.inputValue('[data-testid=noise-stddev]'));
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((b) => Number(document.querySelector('[data-testid=noise-stddev]').value) > b, before);
  assert.match(await page.textContent('[data-testid=noise] output'), /^0\.40$/);
  await page.focus('[data-testid=pad-copy]');
  await page.keyboard.press('Enter');
  await waitForInk(page, 'drawn-reconstruction');
  // The charts' text alternative: the per-epoch table.
  assert.equal(await page.$$eval('[data-testid=history] tbody tr', (rows) => rows.length), 10);
  assert.deepEqual(page.problems, []);
  await page.close();
});
