// `node src/cli/run-ts.js test/bench/cacheContention.ts`: how two threads on this machine share its
// caches. Each thread follows a random cycle through an Int32Array of N entries (a dependent load per
// step, so the time is the memory latency of a working set of 4·N bytes), alone and then two at
// once in worker threads; prints the throughput ratio (2 = no interference) per working-set size.
// On the project's machine (2 vCPUs, 1 MiB L2 each, a shared 32 MiB L3) sets that fit the L3 alone
// but not twice scale far below 2, while L2-sized and DRAM-sized sets scale ~2 (README, "Two workers").
// Not part of `npm run bench` (it takes about a minute); a diagnostic for the worker speed-up.
import { Worker } from 'node:worker_threads';

const CHASE = `
const { parentPort, workerData } = require('node:worker_threads');
const { n, steps, seed } = workerData;
const next = new Int32Array(n);
for (let i = 0; i < n; i++) next[i] = i;
let s = seed >>> 0;
// Sattolo's algorithm: one cycle through every entry.
for (let i = n - 1; i > 0; i--) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  const j = s % i;
  const t = next[i]; next[i] = next[j]; next[j] = t;
}
let x = 0;
for (let i = 0; i < steps; i++) x = next[x];
const t0 = performance.now();
for (let i = 0; i < steps; i++) x = next[x];
parentPort.postMessage({ seconds: (performance.now() - t0) / 1000, x });
`;

function chase(n: number, steps: number, seed: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CHASE, { eval: true, workerData: { n, steps, seed } });
    w.once('message', (m: { seconds: number }) => resolve(m.seconds));
    w.once('error', reject);
  });
}

const STEPS = 20_000_000;
for (const mib of [0.5, 4, 8, 16, 32, 128]) {
  const n = Math.round((mib * 1024 * 1024) / 4);
  const one = await chase(n, STEPS, 1);
  const [a, b] = await Promise.all([chase(n, STEPS, 2), chase(n, STEPS, 3)]);
  const ratio = (2 * one) / Math.max(a, b);
  process.stdout.write(
    JSON.stringify({ working_set_mib: mib, one_thread_ns_per_load: +((one / STEPS) * 1e9).toFixed(2), two_threads_ns_per_load: +((Math.max(a, b) / STEPS) * 1e9).toFixed(2), throughput_ratio: +ratio.toFixed(2) }) + '\n',
  );
}
