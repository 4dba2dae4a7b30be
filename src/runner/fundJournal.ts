// size-fund's journal: every run of a fund search, appended (and synced) after each round to
// OUT/size-fund-runs/journal.jsonl, so that the same command after an interruption (Ctrl-C, SIGTERM,
// a killed job) answers the runs it already made from the journal and runs only the rest. The search
// is a deterministic function of the runs' outcomes, so it replays the same rounds and ends where an
// uninterrupted search ends (tested).
//
// A run is named by what decides it: its point's experiment with the sized fund set aside (its hash),
// the replicate and the fund size. A run's summary does not depend on --target, --tolerance, --outcome,
// --workers or --margin-checks, so a journal also serves a search that changes those; it is tied to
// the build that computed it (engineHash.ts), as `run`'s folders are.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import type { Experiment } from '../experiment/schema.ts';
import { ExperimentError } from '../experiment/errors.ts';
import { engineHash } from './engineHash.ts';
import { experimentHash } from './runExperiment.ts';

/** What the search reads of a run. */
export interface JournalRun {
  adl_count: number;
  socialized_loss_usd: number;
  total_bad_debt_usd: number;
  fund_min_usd: number;
  fund_required_usd: number;
}

interface Line extends JournalRun {
  point: string;
  replicate: number;
  fund_usd: number;
}

const HEADER = 'contagion size-fund journal';

/** The hash that names a search's runs: its experiment with the sized fund at 0 and no run count. */
export function searchKey(exp: Experiment, fund: number): string {
  const funds = exp.scenario.insuranceFunds.map((f, i) => (i === fund ? { ...f, initialUsd: 0 } : f));
  return experimentHash({ ...exp, runs: 0, scenario: { ...exp.scenario, insuranceFunds: funds } }).slice(0, 16);
}

const keyOf = (point: string, replicate: number, fund: number) => `${point} ${replicate} ${fund}`;

export class FundJournal {
  private readonly runs = new Map<string, JournalRun>();
  /** Runs read from an earlier search's journal. */
  readonly resumed: number;

  /**
   * Opens `file` (`option`, `value` name the folder in an error): reads the runs an earlier search left
   * there, or starts one. A journal of another build is bad input (exit 2). A last line cut short by a
   * kill mid-write is dropped from the file (its run is made again).
   */
  constructor(
    private readonly file: string,
    option: string,
    value: string,
  ) {
    const build = engineHash();
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      // A kill in the middle of an append leaves a last line without its newline: drop it, so that the
      // next append starts a line of its own.
      if (!text.endsWith('\n') && lines.length > 1) writeFileSync(file, text.slice(0, text.lastIndexOf('\n') + 1));
      let header: { journal?: string; build?: string } = {};
      try {
        header = JSON.parse(lines[0] ?? '') as typeof header;
      } catch {
        // handled below
      }
      if (header.journal !== HEADER) {
        throw new ExperimentError(value, [{ path: option, value, message: `${file} is not a size-fund journal: remove it, or choose another ${option}` }]);
      }
      if (header.build !== build) {
        throw new ExperimentError(value, [
          {
            path: option,
            value,
            message: `${file} holds runs of another build of contagion (${String(header.build).slice(0, 12)}, this one ${build.slice(0, 12)}): remove it to search again, or choose another ${option}`,
          },
        ]);
      }
      for (const text of lines.slice(1)) {
        if (text === '') continue;
        let line: Line;
        try {
          line = JSON.parse(text) as Line;
        } catch {
          continue;
        }
        const { point, replicate, fund_usd, ...run } = line;
        this.runs.set(keyOf(point, replicate, fund_usd), run);
      }
    } else {
      writeFileSync(file, `${JSON.stringify({ journal: HEADER, build })}\n`);
    }
    this.resumed = this.runs.size;
  }

  /** The run of search `point` (its searchKey), path `replicate`, at `fund` USD, if the journal has it. */
  get(point: string, replicate: number, fund: number): JournalRun | undefined {
    return this.runs.get(keyOf(point, replicate, fund));
  }

  /** Appends a round's new runs and syncs them to disk. */
  append(lines: (JournalRun & { point: string; replicate: number; fund_usd: number })[]): void {
    if (lines.length === 0) return;
    let text = '';
    for (const l of lines) {
      const { point, replicate, fund_usd, adl_count, socialized_loss_usd, total_bad_debt_usd, fund_min_usd, fund_required_usd } = l;
      const run = { adl_count, socialized_loss_usd, total_bad_debt_usd, fund_min_usd, fund_required_usd };
      this.runs.set(keyOf(point, replicate, fund_usd), run);
      text += `${JSON.stringify({ point, replicate, fund_usd, ...run })}\n`;
    }
    const fd = openSync(this.file, 'a');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
