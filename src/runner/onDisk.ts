// Which runs of a plan have part files in a folder: one bit per run (RunPlan, PlanBits), read from one
// listing of the folder. Apart from plan.ts so that the commands which only parse --shard or --only
// do not load the part-file code.
import { forEachPart } from '../io/parts.ts';
import { PlanBits, runOrdinal, type RunPlan } from './plan.ts';

/** Which of the plan's runs have a part file in `outDir`, by plan index. */
export function partsOnDisk(outDir: string, plan: RunPlan): PlanBits {
  const bits = new PlanBits(plan.count);
  forEachPart(outDir, (point, replicate) => {
    if (point >= plan.points || replicate >= plan.runsPerPoint) return;
    const i = plan.indexOf(runOrdinal({ point, replicate }, plan.runsPerPoint));
    if (i >= 0) bits.set(i);
  });
  return bits;
}
