// Ctrl-C, or a scheduler's SIGTERM (Slurm at its time limit), for the commands that run simulations: the
// first SIGINT or SIGTERM aborts the returned signal (the command stops its workers and says what it
// kept), a second one exits at once. Exit codes are those of a process the signal killed (128 + its
// number): 130 for SIGINT, 143 for SIGTERM.
export interface StopSignals {
  signal: AbortSignal;
  /** The signal that stopped the command, or null. */
  stopping(): NodeJS.Signals | null;
  /** Removes the handlers. */
  dispose(): void;
}

export const signalExitCode = (signal: NodeJS.Signals): number => (signal === 'SIGINT' ? 130 : 143);

export function listenForStop(): StopSignals {
  const controller = new AbortController();
  let stopping: NodeJS.Signals | null = null;
  const interrupted = (signal: NodeJS.Signals) => {
    if (stopping !== null) process.exit(signalExitCode(signal));
    stopping = signal;
    controller.abort();
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  return {
    signal: controller.signal,
    stopping: () => stopping,
    dispose: () => {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    },
  };
}
