// The chapter's stacked autoencoder in TensorFlow.js 4.22 (784-128-64-32-64-128-784, SGD lr 1.5,
// binary cross-entropy), timed per training step on each backend, on the first train shard of
// the same Fashion-MNIST shards the page uses. Results land in window.results.
const SHARD = '../../public/data/fashion-mnist/train-00.bin.gz';
const PIXELS = 784;

async function images(count) {
  const response = await fetch(SHARD);
  const stream = response.body.pipeThrough(new DecompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  const floats = new Float32Array(count * PIXELS);
  for (let i = 0; i < floats.length; i++) floats[i] = bytes[i] / 255;
  return floats;
}

function model() {
  const dense = (units, activation, inputShape) => tf.layers.dense({ units, activation, inputShape });
  const m = tf.sequential({
    layers: [
      dense(128, 'relu', [PIXELS]), dense(64, 'relu'), dense(32, 'relu'),
      dense(64, 'relu'), dense(128, 'relu'), dense(PIXELS, 'sigmoid'),
    ],
  });
  m.compile({ optimizer: tf.train.sgd(1.5), loss: 'binaryCrossentropy' });
  return m;
}

/**
 * Milliseconds per training step, and (where the bench counts WebGPU work, window.gpuCounts)
 * kernel launches and queue submits per step.
 */
async function perStep(data, batch, steps) {
  const m = model();
  const x = tf.tensor2d(data.subarray(0, batch * PIXELS), [batch, PIXELS]);
  for (let i = 0; i < 5; i++) await m.trainOnBatch(x, x); // warm-up: shader compiles, allocations
  const counts = () => ({ ...(window.gpuCounts ?? {}) });
  const before = counts();
  const start = performance.now();
  for (let i = 0; i < steps; i++) await m.trainOnBatch(x, x); // each awaits its loss, as fit() does
  const ms = (performance.now() - start) / steps;
  const after = counts();
  x.dispose();
  m.dispose();
  return { ms, launches: (after.dispatches - before.dispatches) / steps, submits: (after.submits - before.submits) / steps };
}

async function main() {
  const data = await images(10000);
  const results = {};
  const budget = { wasm: [40, 10], webgpu: [5, 2], cpu: [10, 3] };
  const backends = new URLSearchParams(location.search).get('backends')?.split(',') ?? ['wasm', 'webgpu', 'cpu'];
  for (const backend of backends) {
    try {
      if (backend === 'wasm') tf.wasm.setWasmPaths('../node_modules/@tensorflow/tfjs-backend-wasm/dist/');
      if (!(await tf.setBackend(backend))) throw new Error('not available');
      await tf.ready();
      const [steps32, steps256] = budget[backend];
      const [b32, b256] = [await perStep(data, 32, steps32), await perStep(data, 256, steps256)];
      results[backend] = { ms_per_step_batch32: b32.ms, ms_per_step_batch256: b256.ms };
      if (backend === 'webgpu') {
        Object.assign(results[backend], {
          launches_per_step_batch32: b32.launches,
          launches_per_step_batch256: b256.launches,
          submits_per_step_batch32: b32.submits,
          submits_per_step_batch256: b256.submits,
        });
      }
    } catch (error) {
      results[backend] = { error: String(error) };
    }
    document.getElementById('log').textContent = JSON.stringify(results, null, 2);
  }
  window.results = results;
}

main().catch((error) => { window.results = { error: String(error) }; });
