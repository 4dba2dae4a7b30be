// Helper of the benchmark (test/bench/run.ts), run in a fresh process of its own:
//   node --max-old-space-size=MB src/cli/run-ts.js test/bench/bigWorld.ts ACCOUNTS STEPS
// Builds the flagship scaled to ACCOUNTS accounts on a 10^4-step timeline (the crash is then at step
// 4236), runs its first STEPS steps (calm), and prints one JSON line: build and step seconds, the
// typed-array bytes of the world, and the process's peak RSS (VmHWM, peakRss.ts) — what
// "10^7 accounts fit in 4 GB" is measured by.
import { parseExperiment } from '../../src/experiment/load.ts';
import { buildGraph } from '../../src/graph/build.ts';
import { worldFor } from '../../src/engine/simulate.ts';
import { step } from '../../src/engine/step.ts';
import { scaledScenario } from './scaled.ts';
import { peakRssKib } from './peakRss.ts';

const accounts = Number(process.argv[2]);
const steps = Number(process.argv[3]);
const { raw } = scaledScenario(accounts, 10_000);
const exp = parseExperiment(raw, `bench:big-${accounts}`);
const graph = buildGraph(exp);
let t = performance.now();
const w = worldFor(exp, graph, 0);
const buildS = (performance.now() - t) / 1000;
t = performance.now();
for (let k = 0; k < steps; k++) {
  w.step = k;
  step(w);
}
const stepS = (performance.now() - t) / 1000;
let bytes = 0;
const seen = new Set<unknown>();
const walk = (v: unknown): void => {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (ArrayBuffer.isView(v)) bytes += v.byteLength;
  else if (Array.isArray(v)) v.forEach(walk);
  else for (const x of Object.values(v as Record<string, unknown>)) walk(x);
};
walk(w);
process.stdout.write(
  JSON.stringify({
    accounts: w.nAccounts,
    positions: w.nPositions,
    steps,
    build_s: buildS,
    step_s: stepS,
    typed_array_bytes: bytes,
    max_rss_kib: peakRssKib(),
    heap_used_bytes: process.memoryUsage().heapUsed,
  }) + '\n',
);
