// Which build of contagion computed a folder's runs. A resumed sweep equals an uninterrupted one only if
// every part was computed by the same code: parts of an older engine next to a newer one's would
// make files no single build writes, silently. So the runner stamps a results folder with a hash of
// what decides a run's bytes — the sources that simulate and write it, the versions of the
// dependencies they use, and the JavaScript engine (its Math functions) — and refuses to resume
// into a folder stamped by another build; merge refuses shards of different builds.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Source folders whose code does not reach a run's bytes (the commands' wording, reports). */
const NOT_IN_RUNS = new Set(['src/cli', 'src/analysis']);

/** The package's own source files that decide runs, relative to `root`, sorted. */
function runSources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path).split('\\').join('/');
      if (entry.isDirectory()) {
        if (!NOT_IN_RUNS.has(rel)) walk(path);
      } else if (/\.[jt]s$/.test(entry.name)) {
        out.push(rel);
      }
    }
  };
  walk(join(root, 'src'));
  return out.sort();
}

/** The installed version of each runtime dependency of the package at `root` (null when missing). */
function dependencyVersions(root: string): Record<string, string | null> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const out: Record<string, string | null> = {};
  for (const name of Object.keys(pkg.dependencies ?? {}).sort()) {
    try {
      out[name] = (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      out[name] = null;
    }
  }
  return out;
}

/**
 * sha256 of the build at `root` (this package by default): every source file that decides a run (path
 * and contents), the installed dependency versions and the V8 version.
 */
export function engineHash(root: string = PACKAGE_ROOT): string {
  const h = createHash('sha256');
  for (const rel of runSources(root)) {
    h.update(`${rel}\0`);
    h.update(readFileSync(join(root, rel)));
    h.update('\0');
  }
  h.update(JSON.stringify(dependencyVersions(root)));
  h.update(`\0v8 ${process.versions.v8}`);
  return h.digest('hex');
}
