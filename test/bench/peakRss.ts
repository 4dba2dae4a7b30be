// The peak resident set of this process, for the bench's helper processes.
//
// Not process.resourceUsage().maxRSS: on Linux getrusage's high-water mark survives exec, so a
// process that the bench forks starts with the bench's own resident set as its peak (measured:
// a helper spawned by a process holding 500 MB reported 504 MiB after its 10th run, 138 MiB when
// spawned by a small one). Until session 16 the helpers reported that figure, so a sweep's peak read
// as the bench's RSS whenever the bench was the larger (both RSS sweeps read 273.8 MiB, a ratio of
// exactly 1). VmHWM in /proc/self/status is the peak of this process's own address space (every
// thread's), which exec starts afresh.
import { readFileSync } from 'node:fs';

/** Peak resident set of this process's address space, KiB (VmHWM; getrusage's where /proc is missing). */
export function peakRssKib(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // Not Linux.
  }
  return process.resourceUsage().maxRSS;
}
