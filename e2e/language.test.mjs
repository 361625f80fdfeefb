// The chapter's readers: the page in Chinese and in English (lang= and the switcher), the
// chapter's plots and model summary, the chapter's sequence of runs (from=tied), and the map's
// lessons (PCA against t-SNE, perplexity, nearest neighbours).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { history, inkShare, openPage, pageSession, screenshot, settled, waitForInk, waitForState } from './harness.mjs';

const MINUTE = 60_000;
const session = pageSession();
const locales = join(dirname(fileURLToPath(import.meta.url)), '..', 'app', 'locales');

/** Every text of a catalogue, flattened. */
async function catalogue(name) {
  const texts = [];
  const walk = (value) => (typeof value === 'string' ? texts.push(value) : Object.values(value).forEach(walk));
  walk(JSON.parse(await readFile(join(locales, `${name}.json`), 'utf8')));
  return texts;
}

/** Everything a reader meets: visible text, and the labels and alternatives of every element. */
async function pageWords(page) {
  return page.evaluate(() => {
    const labels = [...document.querySelectorAll('[aria-label], [title], [alt]')].map((e) =>
      ['aria-label', 'title', 'alt'].map((a) => e.getAttribute(a) ?? '').join(' '));
    return [document.body.innerText, ...labels].join('\n');
  });
}

/** The fixed words of the English catalogue (what is around its blanks) that Chinese text must not show. */
async function englishPhrases() {
  const [en, zh] = [await catalogue('en'), await catalogue('zh')];
  const sharedWithChinese = zh.join('\n');
  return en
    .flatMap((text) => text.split(/\{\{[^}]*\}\}/))
    .map((piece) => piece.trim().replace(/^[,.;:()—–-]+|[,.;:()—–-]+$/g, '').trim())
    .filter((piece) => /[a-z]{3}.*\s.*[a-z]{3}/i.test(piece) && !sharedWithChinese.includes(piece));
}

test('lang=zh shows the page in Chinese only, with <html lang> and translated notices', async () => {
  const page = await openPage(session.browser, `${session.server.url}?lang=zh&epochs=lots`);
  await waitForState(page, ['ready'], 2 * MINUTE);
  await page.waitForFunction(() => /预训练模型：堆叠自编码器/.test(document.querySelector('[data-testid=shown]')?.textContent ?? ''), null, { timeout: 2 * MINUTE });
  assert.equal(await page.getAttribute('html', 'lang'), 'zh');
  assert.match(await page.textContent('[data-testid=notices]'), /已忽略 URL 参数 epochs="lots"/);
  assert.match(await page.textContent('h1'), /看自编码器如何学习/);
  await page.waitForFunction(() => /\d+\.\d%/.test(document.querySelector('[data-testid=knn]')?.textContent ?? ''), null, { timeout: 2 * MINUTE });
  await waitForInk(page, 'nearest-images', MINUTE);
  const words = await pageWords(page);
  const leaks = (await englishPhrases()).filter((phrase) => words.includes(phrase));
  assert.deepEqual(leaks, [], `English on the Chinese page: ${leaks.join(' | ')}`);
  for (const term of ['堆叠自编码器', '权重绑定', '去噪自编码器', '舍入准确率', '学习率', '批大小', '短靴', '运动鞋']) {
    assert.ok(words.includes(term), `${term} missing`);
  }
  await screenshot(page, 'zh');
  // Chinese labels fit a phone's 360 px too.
  await page.setViewportSize({ width: 360, height: 800 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 360, `the page is ${overflow} px wide at 360 px`);
  await screenshot(page, 'zh-360px');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the switcher changes the language, keeps it in the link, and English pages show no Chinese', async () => {
  const page = await openPage(session.browser, `${session.server.url}?lang=en&experiment=tied`);
  await waitForState(page, ['ready'], 2 * MINUTE);
  await page.waitForFunction(() => /Pretrained: tied/.test(document.querySelector('[data-testid=shown]')?.textContent ?? ''), null, { timeout: 2 * MINUTE });
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  // Only the switcher names the other language.
  const han = (await pageWords(page)).replace('简体中文', '').match(/[\u4e00-\u9fff]+/g);
  assert.equal(han, null, `Chinese on the English page: ${han}`);

  await page.click('[data-testid=lang-zh]');
  await page.waitForFunction(() => document.documentElement.lang === 'zh');
  assert.match(page.url(), /[?&]lang=zh(&|$)/);
  assert.match(await page.textContent('[data-testid=shown]'), /预训练模型：权重绑定，10 轮/);
  assert.match(await page.textContent('[data-testid=status]'), /就绪/);
  await page.click('[data-testid=lang-en]');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.match(await page.textContent('[data-testid=shown]'), /Pretrained: tied, 10 epochs/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the chapter\'s plots: training and test per epoch, and the model summary', async () => {
  const page = await openPage(session.browser, `${session.server.url}?lang=zh&experiment=tied`);
  await waitForState(page, ['ready'], 2 * MINUTE);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] tbody tr').length === 10, null, { timeout: 2 * MINUTE });
  // A pretrained model's curves hold its training figures too: the training colour (tab10
  // blue) and the test colour (orange) are both drawn.
  for (const chart of ['loss-chart', 'accuracy-chart']) {
    const colours = await settled(() => page.$eval(`[data-testid=${chart}]`, (canvas) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let blue = 0, orange = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if (Math.abs(r - 31) < 12 && Math.abs(g - 119) < 12 && Math.abs(b - 180) < 12) blue++;
        if (Math.abs(r - 255) < 12 && Math.abs(g - 127) < 12 && Math.abs(b - 14) < 12) orange++;
      }
      return { blue, orange };
    }), ({ blue, orange }) => blue > 200 && orange > 200);
    assert.ok(colours.blue > 200 && colours.orange > 200, `${chart}: ${JSON.stringify(colours)}`);
  }
  await page.click('[data-testid=summary] summary');
  assert.equal(await page.textContent('[data-testid=summary-total]'), '111,792');
  const summary = await page.textContent('[data-testid=summary]');
  assert.match(summary, /转置全连接层/);
  assert.match(summary, /共用 dense_1 的权重矩阵/);
  await page.click('label.experiment:has-text("堆叠自编码器")');
  await page.waitForFunction(() => document.querySelector('[data-testid=summary-total]')?.textContent === '222,384');
  await screenshot(page, 'zh-summary');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the map as a lesson: PCA of the codes and of the pixels, perplexity, nearest images', async () => {
  const page = await openPage(session.browser, `${session.server.url}?experiment=denoising`);
  await waitForState(page, ['ready'], 2 * MINUTE);
  await page.waitForFunction(() => /pretrained model/.test(document.querySelector('[data-testid=embedding-status]')?.textContent ?? ''), null, { timeout: 2 * MINUTE });
  await page.click('[data-testid=map-method] input[value=pca]');
  await page.waitForFunction(() => /PCA of the 10000 test codes/.test(document.querySelector('[data-testid=embedding-status]').textContent), null, { timeout: MINUTE });
  assert.match(page.url(), /[?&]map=pca(&|$)/);
  await waitForInk(page, 'embedding');
  await page.click('[data-testid=map-method] input[value=pixels]');
  await page.waitForFunction(() => /raw pixels/.test(document.querySelector('[data-testid=embedding-status]').textContent), null, { timeout: 2 * MINUTE });
  const knn = await page.textContent('[data-testid=knn]');
  const [codes, pixels] = [...knn.matchAll(/(\d+\.\d)%/g)].map((m) => Number(m[1]));
  // 1-NN on the 2,000 first test images: both well above chance (10%).
  assert.ok(codes > 60 && pixels > 60, knn);
  await screenshot(page, 'map-pixels');

  // Another perplexity: t-SNE runs again in the worker, with its progress, and the page stays usable.
  await page.click('[data-testid=map-method] input[value=tsne]');
  await page.$eval('[data-testid=perplexity]', (input) => { input.value = '5'; input.dispatchEvent(new Event('change', { bubbles: true })); });
  await page.waitForFunction(() => /perplexity 5/i.test(document.querySelector('[data-testid=embedding-status]').textContent), null, { timeout: MINUTE });
  assert.match(page.url(), /[?&]perplexity=5(&|$)/);
  await page.fill('[data-testid=picked-index]', '42');
  await page.press('[data-testid=picked-index]', 'Enter');
  await waitForInk(page, 'nearest-images', MINUTE);
  assert.ok((await inkShare(page, 'nearest-images')) > 0.05);
  assert.match(await page.getAttribute('[data-testid=nearest-images]', 'aria-label'), /nearest to test image 42/);
  await page.waitForFunction(() => / s\. Perplexity 5\./.test(document.querySelector('[data-testid=embedding-status]').textContent), null, { timeout: 3 * MINUTE });
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('from=tied trains denoising on top of the tied model, as the chapter does, and says so', async () => {
  const url = `${session.server.url}?experiment=denoising&from=tied&epochs=1&train_limit=2048&backend=cpu`;
  const page = await openPage(session.browser, url);
  await waitForState(page, ['ready'], 2 * MINUTE);
  assert.equal(await page.isChecked('[data-testid=from-tied]'), true);
  await page.click('[data-testid=train]');
  await page.waitForFunction(() => /starting from the tied model/.test(document.querySelector('[data-testid=shown]')?.textContent ?? ''), null, { timeout: MINUTE });
  await waitForState(page, ['done'], 5 * MINUTE);
  const [row] = await history(page);
  // 64 steps from fresh weights leave the loss near 0.45; from the trained tied model it
  // starts where that model ended (about 0.29).
  assert.ok(row.valLoss < 0.33, JSON.stringify(row));
  assert.match(await page.textContent('[data-testid=shown]'), /started from the tied model \(`fmnist-ae pretrain/);
  const [record] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=save-history]')]);
  const saved = JSON.parse(await readFile(await record.path(), 'utf8'));
  assert.match(saved.started_from, /fmnist-ae pretrain.*10 epochs, seed 0/);
  assert.deepEqual(page.problems, []);
  await page.close();
});
