// The one place where errors become exit codes. Users see a message, never a stack trace:
// bad input (ExperimentError, UsageError) exits 2, a broken invariant or a full disk exits 1, and
// anything else is our bug, reported as "internal error" with the stack only when CONTAGION_DEBUG=1.
import { DISK_FULL_CODES, DiskFullError, ExperimentError, InvariantError, RunFailedError, UsageError } from '../experiment/errors.ts';

/** Exit code for bad input (the user can fix it). */
export const EXIT_BAD_INPUT = 2;
/** Exit code for an internal error or a broken invariant. */
export const EXIT_INTERNAL = 1;

/** The message to print for `err` and the exit code it maps to. */
export function describeError(err: unknown): { message: string; code: number } {
  if (err instanceof ExperimentError) return { message: err.message, code: EXIT_BAD_INPUT };
  if (err instanceof UsageError) return { message: `error: ${err.message}`, code: EXIT_BAD_INPUT };
  if (err instanceof InvariantError) return { message: err.message, code: EXIT_INTERNAL };
  if (err instanceof DiskFullError || err instanceof RunFailedError) return { message: `error: ${err.message}`, code: EXIT_INTERNAL };
  // A full disk met outside a run (the Arrow files, the manifest): not our bug either.
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && DISK_FULL_CODES.has(code) && err instanceof Error) {
    return { message: `error: the disk is full (${err.message}); free space and run the same command again: committed runs are kept`, code: EXIT_INTERNAL };
  }
  const text = err instanceof Error ? err.message : String(err);
  const debug = process.env.CONTAGION_DEBUG === '1';
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  const hint = debug ? '' : '\n(set CONTAGION_DEBUG=1 to see the stack trace)';
  return { message: `internal error: ${text}${stack}${hint}`, code: EXIT_INTERNAL };
}

/** Print `err` to stderr and exit with its code. For the top level of the CLI only. */
export function exitWithError(err: unknown): never {
  const { message, code } = describeError(err);
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(code);
}
