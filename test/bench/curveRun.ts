// Helper of the benchmark (test/bench/run.ts), run in a fresh process of its own:
//   node --max-old-space-size=MB src/cli/run-ts.js test/bench/curveRun.ts ACCOUNTS STEPS
// One whole run of the flagship scaled to ACCOUNTS accounts on a STEPS-step timeline (wholeRun, as the
// bench's in-process points of the scaling curve), then one JSON line on stdout: the run's figures
// and the process's peak RSS (VmHWM, peakRss.ts). The largest point of the curve (10^7
// accounts) runs here so that its gigabytes of state and events do not stay in the bench process.
import { wholeRun } from './whole.ts';
import { peakRssKib } from './peakRss.ts';

const accounts = Number(process.argv[2]);
const steps = Number(process.argv[3]);
if (!(accounts > 0) || !(steps > 0)) throw new Error('usage: curveRun.ts ACCOUNTS STEPS');
const r = wholeRun(accounts, steps);
process.stdout.write(JSON.stringify({ ...r, max_rss_kib: peakRssKib() }) + '\n');
