// The folder a command writes its results into (`--out`): made if missing, or refused as bad input
// (exit 2, naming the option) when a file is in the way or the place is not writable, rather than
// failing later as an internal error.
import * as fs from 'node:fs';
import { ExperimentError } from '../experiment/errors.ts';

/** Why a folder could not be made, by the error's code; undefined for what is not the user's to fix. */
function reason(code: string | undefined): string | undefined {
  if (code === 'EEXIST' || code === 'ENOTDIR') return 'a file is in the way: expected a folder (an existing one, or a path where one can be made)';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'cannot be written here (permission denied or a read-only file system): expected a writable folder';
  return undefined;
}

/**
 * Makes folder `dir` (and its parents), as `option` named `value`; throws ExperimentError (bad input)
 * when a file is in the way or it cannot be written, any other error as it is.
 */
export function makeOutputFolder(dir: string, option: string, value: string = dir): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    // mkdir of an existing folder succeeds whatever its permissions: try writing in it.
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    const why = reason((e as NodeJS.ErrnoException).code);
    if (why === undefined) throw e;
    throw new ExperimentError(value, [{ path: option, value, message: why }]);
  }
}
