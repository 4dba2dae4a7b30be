// `contagion list`: the experiments that ship with the package (experiments/*.json beside
// package.json, found from this file's location so it works from any cwd), each with its name,
// the first sentence of its note, and a mark when it does not validate.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { ExperimentError } from '../../experiment/errors.ts';
import { parseExperiment } from '../../experiment/load.ts';

/** Absolute path of the package's experiments folder. */
export const EXPERIMENTS_DIR = fileURLToPath(new URL('../../../experiments/', import.meta.url));

/** One shipped experiment as listed. */
export interface ListedExperiment {
  file: string;
  name: string;
  summary: string;
  valid: boolean;
}

/** The first sentence of a note; "e.g. x" does not end a sentence (the next word is lower case). */
export function firstSentence(note: string): string {
  const flat = note.replace(/\s+/g, ' ').trim();
  const m = /^(.*?[.!?])(?=\s+[A-Z0-9("'`]|$)/.exec(flat);
  return m ? m[1]! : flat;
}

/** Read every experiments/*.json, sorted by file name; an unreadable file is listed as invalid. */
export function listExperiments(dir: string = EXPERIMENTS_DIR): ListedExperiment[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return files.map((f) => {
    const file = join(dir, f);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return { file, name: f.replace(/\.json$/, ''), summary: '(not readable as JSON)', valid: false };
    }
    const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const name = typeof obj.name === 'string' ? obj.name : f.replace(/\.json$/, '');
    const summary = typeof obj.note === 'string' ? firstSentence(obj.note) : '(no note)';
    let valid = true;
    try {
      parseExperiment(raw, file);
    } catch (err) {
      if (!(err instanceof ExperimentError)) throw err;
      valid = false;
    }
    return { file, name, summary, valid };
  });
}

/** A path relative to the cwd when it is inside it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

export const listCommand: CommandModule = {
  command: 'list',
  describe: 'List the experiments that ship with contagion',
  handler: () => {
    const items = listExperiments();
    const shownDir = shown(EXPERIMENTS_DIR);
    if (items.length === 0) {
      process.stdout.write(`no experiments in ${shownDir}\n`);
      return;
    }
    const width = Math.max(...items.map((i) => i.name.length));
    for (const i of items) {
      const mark = i.valid ? '' : '  [invalid: run contagion validate on it]';
      process.stdout.write(`${i.name.padEnd(width)}  ${i.summary}${mark}\n`);
      process.stdout.write(`${''.padEnd(width)}  ${shown(i.file)}\n`);
    }
  },
};
