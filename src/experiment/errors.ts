// Typed errors at the boundary between the user and the engine. An ExperimentError lists every
// offending field (path, value, expectation) so the CLI can print them all and exit 2.

/** One problem with an input: where it is, what was there, and what was expected. */
export interface InputIssue {
  /** Dotted path into the experiment, e.g. "scenario.assets.0.volatilityAnnual". */
  path: string;
  /** The offending value (undefined when the field is missing). */
  value: unknown;
  message: string;
}

/** Bad input: a file that is missing, not JSON, or not a valid experiment. Exit code 2. */
export class ExperimentError extends Error {
  constructor(
    readonly source: string,
    readonly issues: InputIssue[],
  ) {
    super(`${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` + issues.map(formatIssue).join('\n'));
    this.name = 'ExperimentError';
  }
}

/** Why a file could not be read, for an InputIssue: what went wrong, and `expected` (what the path should name). */
export function readFailure(err: unknown, expected: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return `no such file: expected ${expected}`;
    case 'EISDIR':
      return `this is a directory: expected ${expected}`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: the file cannot be read';
    default:
      return `cannot read the file (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** Bad command-line usage (a malformed --set, --shard…). Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An invariant broke during a run (ledger, NaN, zero-sum). Exit code 1: this is our bug or a model blow-up. */
export class InvariantError extends Error {
  override name = 'InvariantError';
  constructor(
    readonly detail: string,
    readonly step: number,
    readonly where: string,
  ) {
    super(`invariant broken at ${step < 0 ? 'an unknown step' : `step ${step}`} (${where}): ${detail}`);
  }
}

/**
 * A sweep stopped because the disk it writes to is full (ENOSPC) or over quota (EDQUOT): every run after
 * would fail the same way, after its whole simulation. Exit code 1; the committed runs stay.
 */
export class DiskFullError extends Error {
  override name = 'DiskFullError';
}

/**
 * A run that a command needed failed (size-fund cannot answer without every path of a round). Exit
 * code 1; the message names the run and how to reproduce it.
 */
export class RunFailedError extends Error {
  override name = 'RunFailedError';
  constructor(
    message: string,
    /** The failed run: its search (size-fund: the sweep point's, in order), replicate, and the values it was run with (path → value). */
    readonly run: { search: number; replicate: number; values: Record<string, unknown> } | null = null,
  ) {
    super(message);
  }
}

/** System error codes of a full disk or an exhausted quota. */
export const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

export function formatIssue(issue: InputIssue): string {
  const shown = issue.value === undefined ? 'missing' : JSON.stringify(issue.value);
  const shortened = shown.length > 80 ? shown.slice(0, 77) + '...' : shown;
  return `  - ${issue.path || '(root)'}: ${issue.message} (got ${shortened})`;
}
