// The one primitive that moves value. Every holder (account collateral, wallets, insurance funds,
// settlement pools, protocol reserves, the outside market's cash, …) has a USD balance here, and every
// change of a balance is a transfer between two holders, so the total never changes: no value enters
// the system from outside it (the outside market that buys forced sales is a holder too).
import { InvariantError } from '../experiment/errors.ts';
import { grown, listStart } from '../model/typedArrays.ts';

/**
 * The amount Ledger.transferAmount moves, set by the caller just before the call: the engine's
 * transfers on every closing fill and margin top-up are made from calls V8 does not always inline
 * transfer() into, where a double argument is a fresh heap number.
 */
export const TRANSFER_USD = new Float64Array(1);

/** Bits of Ledger.flags: touched since the margin index last looked (the ledger's), and the index's two. */
export const TOUCHED = 1;
export const LISTED = 2;
export const IN_CALL_LIST = 4;

export class Ledger {
  /** USD balance of every holder. Read freely; write only through transfer(). */
  readonly balance: Float64Array;
  /** Σ balances at construction, USD. */
  readonly initialTotalUsd: number;
  /** Σ of the absolute initial balances: the scale that ledger errors are measured against. */
  readonly scaleUsd: number;
  /**
   * With --check (engine/simulate.ts runWorld): called before every transfer with its two holders;
   * throws when value may not move between them (engine/holders.ts flowRule). Null otherwise.
   */
  flowRule: ((from: number, to: number) => void) | null = null;
  /** Names holder h by its role in error messages (engine/holders.ts holderName); by index until set. */
  describeHolder: (h: number) => string = (h) => `holder ${h}`;
  /**
   * Holders 0 … trackedHolders − 1 (the perp accounts) whose balance changed since the margin index
   * last looked (engine/marginIndex.ts): the TOUCHED bit of a byte of flags per holder, and the list
   * of those flagged. The byte's other bits are the margin index's (LISTED, IN_CALL_LIST): one byte
   * an account for three flags.
   */
  readonly trackedHolders: number;
  readonly flags: Uint8Array;
  /** Grown on demand (a step touches a few of the accounts, not all of them). */
  touchedList: Int32Array;
  nTouched = 0;
  /**
   * Per tracked holder: the stamp (World.markStampNow) of the mark epoch its stored marks were
   * computed in (engine/accounts.markAccount), zeroed by any change to its balance or positions so
   * that the next mark recomputes them.
   */
  readonly markStamp: Uint8Array;
  /**
   * While on: the tracked holders touched since the log was last cleared, each once, in order of
   * their first touch (engine/adlQueue.ts scores them again, then clears it). Turned on by the ADL
   * queues within a mark epoch, off when the epoch ends. `inChangeLog` flags the holders listed
   * (allocated when the log is first started).
   */
  changeLog: Int32Array = new Int32Array(0);
  nChangeLog = 0;
  changeLogOn = false;
  private inChangeLog: Uint8Array = new Uint8Array(0);

  constructor(initialBalances: Float64Array, trackedHolders = 0) {
    this.balance = initialBalances;
    this.trackedHolders = trackedHolders;
    this.flags = new Uint8Array(trackedHolders);
    this.touchedList = new Int32Array(listStart(trackedHolders));
    this.markStamp = new Uint8Array(trackedHolders);
    let total = 0;
    let scale = 0;
    for (let i = 0; i < initialBalances.length; i++) {
      total += initialBalances[i]!;
      scale += Math.abs(initialBalances[i]!);
    }
    this.initialTotalUsd = total;
    this.scaleUsd = scale;
  }

  /**
   * Moves `amountUsd` from holder `from` to holder `to`. A negative amount moves value the other
   * way (used for signed realized PnL). Throws on a non-finite amount: nothing is lost silently.
   */
  transfer(from: number, to: number, amountUsd: number): void {
    TRANSFER_USD[0] = amountUsd;
    this.transferAmount(from, to);
  }

  /** transfer() of the amount in TRANSFER_USD[0]. */
  transferAmount(from: number, to: number): void {
    const amountUsd = TRANSFER_USD[0]!;
    if (!Number.isFinite(amountUsd)) {
      throw new InvariantError(`non-finite transfer ${amountUsd} from ${this.describeHolder(from)} to ${this.describeHolder(to)}`, -1, 'ledger.transfer');
    }
    if (this.flowRule !== null) this.flowRule(from, to);
    this.balance[from] = this.balance[from]! - amountUsd;
    this.balance[to] = this.balance[to]! + amountUsd;
    this.touch(from);
    this.touch(to);
  }

  /** Notes that holder h's balance (or, for an account, its positions) changed. */
  touch(h: number): void {
    if (h < this.trackedHolders) {
      this.markStamp[h] = 0;
      const f = this.flags[h]!;
      if ((f & TOUCHED) === 0) {
        this.flags[h] = f | TOUCHED;
        if (this.nTouched === this.touchedList.length) this.touchedList = grown(this.touchedList, this.nTouched + 1);
        this.touchedList[this.nTouched++] = h;
      }
      if (this.changeLogOn && this.inChangeLog[h] === 0) this.logChange(h);
    }
  }

  /** Starts an empty change log. */
  startChangeLog(): void {
    if (this.inChangeLog.length === 0) this.inChangeLog = new Uint8Array(this.trackedHolders);
    this.clearChangeLog();
    this.changeLogOn = true;
  }

  /** Empties the change log (it stays on if it was). */
  clearChangeLog(): void {
    for (let i = 0; i < this.nChangeLog; i++) this.inChangeLog[this.changeLog[i]!] = 0;
    this.nChangeLog = 0;
  }

  private logChange(h: number): void {
    if (this.nChangeLog === this.changeLog.length) {
      const grown = new Int32Array(Math.min(this.trackedHolders, Math.max(256, 2 * this.nChangeLog)));
      grown.set(this.changeLog);
      this.changeLog = grown;
    }
    this.inChangeLog[h] = 1;
    this.changeLog[this.nChangeLog++] = h;
  }

  /** Σ balances now, USD (compensated summation, so the error measures the model, not rounding). */
  totalUsd(): number {
    let sum = 0;
    let c = 0;
    const b = this.balance;
    for (let i = 0; i < b.length; i++) {
      const y = b[i]! - c;
      const t = sum + y;
      c = t - sum - y;
      sum = t;
    }
    return sum;
  }

  /** |Σ holdings − initial Σ|, USD. */
  errorUsd(): number {
    return Math.abs(this.totalUsd() - this.initialTotalUsd);
  }
}
