// Course use: pretrained models on load, saving and loading weights, links that hold the
// settings, and hide= for pages that embed only part of the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ARTIFACTS, history, inkShare, openPage, pageSession, screenshot, waitForState } from './harness.mjs';

const MINUTE = 60_000;
const session = pageSession();

async function shownText(page, pattern) {
  await page.waitForFunction((source) => new RegExp(source).test(document.querySelector('[data-testid=shown]')?.textContent ?? ''), pattern.source, { timeout: 2 * MINUTE });
  return page.textContent('[data-testid=shown]');
}

test('shows the pretrained model at once, and each experiment when picked', async () => {
  const page = await openPage(session.browser, session.server.url);
  await waitForState(page, ['ready'], 2 * MINUTE);
  const note = await shownText(page, /Pretrained: stacked/);
  assert.match(note, /10 epochs, seed 0 \(trained with `fmnist-ae pretrain/);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] tbody tr').length === 10);
  const rows = await history(page);
  assert.ok(rows.at(-1).valLoss < 0.3 && rows.at(-1).valAcc > 0.92, JSON.stringify(rows.at(-1)));
  await page.waitForFunction(() => /pretrained model/.test(document.querySelector('[data-testid=embedding-status]').textContent));
  for (const canvas of ['loss-chart', 'reconstructions', 'embedding']) {
    await page.waitForFunction((id) => {
      const c = document.querySelector(`[data-testid=${id}]`);
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      for (let i = 0; i < data.length; i += 4) if (data[i] < 250) return true;
      return false;
    }, canvas, { timeout: MINUTE });
    assert.ok((await inkShare(page, canvas)) > 0.005, `${canvas} is blank`);
  }
  await screenshot(page, 'pretrained');

  // Another experiment: its own pretrained model, and the URL says which.
  await page.click('label.experiment:has-text("denoising")');
  await shownText(page, /Pretrained: denoising/);
  assert.match(page.url(), /[?&]experiment=denoising(&|$)/);
  await page.waitForFunction(() => /what the model sees/.test(document.querySelector('.row-labels')?.textContent ?? ''));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('saves weights and history, loads them back, and refuses a bad file without changing anything', async () => {
  const page = await openPage(session.browser, `${session.server.url}?experiment=tied`);
  await waitForState(page, ['ready'], 2 * MINUTE);
  await shownText(page, /Pretrained: tied/);

  const [weights] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=save-weights]')]);
  assert.equal(weights.suggestedFilename(), 'tied.safetensors');
  const bytes = await readFile(await weights.path());
  // 9 tensors of the tied model: 111,792 floats plus the header.
  assert.ok(bytes.length > 111_792 * 4 && bytes.length < 111_792 * 4 + 4096, `${bytes.length} bytes`);
  const [record] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=save-history]')]);
  const saved = JSON.parse(await readFile(await record.path(), 'utf8'));
  assert.equal(saved.experiment, 'tied');
  assert.equal(saved.history.length, 10);

  // A truncated file: a message, and the pretrained model stays.
  await mkdir(ARTIFACTS, { recursive: true });
  const truncated = join(ARTIFACTS, 'truncated.safetensors');
  await writeFile(truncated, bytes.subarray(0, bytes.length / 2));
  await page.setInputFiles('[data-testid=load-weights]', truncated);
  await page.waitForFunction(() => document.querySelector('[data-testid=error]')?.textContent.includes('Nothing was changed'));
  assert.match(await page.textContent('[data-testid=error]'), /truncated\.safetensors/);
  assert.match(await page.textContent('[data-testid=shown]'), /Pretrained: tied/);
  assert.equal((await history(page)).length, 10);

  // The stacked model's weights into the tied model: named tensors it does not have.
  const stacked = join(ARTIFACTS, 'stacked.safetensors');
  await writeFile(stacked, await readFile(new URL('../public/pretrained/stacked.safetensors', import.meta.url)));
  await page.setInputFiles('[data-testid=load-weights]', stacked);
  await page.waitForFunction(() => /does not use/.test(document.querySelector('[data-testid=error]')?.textContent ?? ''));

  // The saved file loads back.
  const good = join(ARTIFACTS, 'tied.safetensors');
  await writeFile(good, bytes);
  await page.setInputFiles('[data-testid=load-weights]', good);
  await shownText(page, /Loaded tied weights from tied\.safetensors/);
  await page.waitForFunction(() => !document.querySelector('[data-testid=error]')?.textContent);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a link restores the settings; hide= leaves parts out', async () => {
  const query = 'experiment=dropout&dropout=0.3&lr=0.75&seed=4&hide=header,table&images=10,20,30,40,50,60';
  const page = await openPage(session.browser, `${session.server.url}?${query}`);
  await waitForState(page, ['ready'], 2 * MINUTE);
  await shownText(page, /Pretrained: dropout/);
  assert.equal(await page.isVisible('header'), false);
  assert.equal(await page.isVisible('[data-testid=history]'), false);
  assert.equal(await page.isVisible('[data-testid=reconstructions]'), true);
  assert.equal(await page.inputValue('label:has-text("dropout rate") input'), '0.3');
  assert.equal(await page.inputValue('label:has-text("seed") input'), '4');
  // The address bar holds the same settings (autostart never: a shared link does not train).
  const params = new URL(page.url()).searchParams;
  for (const [key, value] of new URLSearchParams(query)) assert.equal(params.get(key), value, key);

  await page.fill('label:has-text("learning rate") input', '0.5');
  await page.press('label:has-text("learning rate") input', 'Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('lr') === '0.5');
  await page.click('[data-testid=copy-link]');
  await page.waitForFunction(() => /Link copied/.test(document.querySelector('[data-testid=notices]')?.textContent ?? ''));
  assert.deepEqual(page.problems, []);
  await page.close();
});
