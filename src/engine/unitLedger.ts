// Holdings of assets in units (not USD): a lending market's collateral, its pools' liquidity, its
// treasury, liquidators' inventory and the outside market. Every holder holds one asset; a
// transfer moves units between two holders of the same asset, so Σ units per asset changes only by
// what is minted and burned, both recorded.
// USD cash stays in the Ledger; a spot trade is one transfer here and one there.
import { InvariantError } from '../experiment/errors.ts';

export class UnitLedger {
  /** Units held by every holder. Read freely; write only through transfer(). */
  readonly qty: Float64Array;
  /** The asset each holder holds. */
  readonly holderAsset: Int32Array;
  /** Σ units per asset at construction. */
  readonly initialTotal: Float64Array;
  /** Σ |units| per asset at construction: the scale errors are measured against. */
  readonly scale: Float64Array;
  /** Units created per asset since construction (a governance token minted to cover a deficit, collateral minted by an algorithmic stable's swap). */
  readonly minted: Float64Array;
  /** Units destroyed per asset since construction (stable tokens burned by their swap). */
  readonly burned: Float64Array;

  /**
   * With --check (engine/simulate.ts runWorld): called before every transfer with its two holders;
   * throws when units may not move between them (engine/holders.ts unitFlowRule). Null otherwise.
   */
  flowRule: ((from: number, to: number) => void) | null = null;
  /** Names holder h by its role in error messages (engine/holders.ts unitHolderName); by index until set. */
  describeHolder: (h: number) => string = (h) => `holder ${h}`;

  constructor(initialQty: Float64Array, holderAsset: Int32Array, nAssets: number) {
    this.qty = initialQty;
    this.holderAsset = holderAsset;
    this.initialTotal = new Float64Array(nAssets);
    this.scale = new Float64Array(nAssets);
    this.minted = new Float64Array(nAssets);
    this.burned = new Float64Array(nAssets);
    for (let h = 0; h < initialQty.length; h++) {
      const a = holderAsset[h]!;
      this.initialTotal[a] = this.initialTotal[a]! + initialQty[h]!;
      this.scale[a] = this.scale[a]! + Math.abs(initialQty[h]!);
    }
  }

  /** Moves `units` from holder `from` to holder `to` (both of one asset). */
  transfer(from: number, to: number, units: number): void {
    if (!Number.isFinite(units)) {
      throw new InvariantError(`non-finite unit transfer ${units} from ${this.describeHolder(from)} to ${this.describeHolder(to)}`, -1, 'units.transfer');
    }
    if (this.holderAsset[from] !== this.holderAsset[to]) {
      throw new InvariantError(`unit transfer between holders of different assets (${this.describeHolder(from)}: asset ${this.holderAsset[from]}, ${this.describeHolder(to)}: asset ${this.holderAsset[to]})`, -1, 'units.transfer');
    }
    if (this.flowRule !== null) this.flowRule(from, to);
    this.qty[from] = this.qty[from]! - units;
    this.qty[to] = this.qty[to]! + units;
  }

  /** Creates `units` at holder `to`: the one way units enter, recorded per asset. */
  mint(to: number, units: number): void {
    if (!Number.isFinite(units) || units < 0) throw new InvariantError(`invalid mint of ${units} units to ${this.describeHolder(to)}`, -1, 'units.mint');
    this.qty[to] = this.qty[to]! + units;
    const a = this.holderAsset[to]!;
    this.minted[a] = this.minted[a]! + units;
  }

  /** Destroys `units` held by holder `from`: the one way units leave, recorded per asset. */
  burn(from: number, units: number): void {
    if (!Number.isFinite(units) || units < 0) throw new InvariantError(`invalid burn of ${units} units from ${this.describeHolder(from)}`, -1, 'units.burn');
    this.qty[from] = this.qty[from]! - units;
    const a = this.holderAsset[from]!;
    this.burned[a] = this.burned[a]! + units;
  }

  /** The scale errors in asset a are measured against: Σ |units| at construction, plus every unit minted or burned since. */
  scaleUnits(asset: number): number {
    return this.scale[asset]! + this.minted[asset]! + this.burned[asset]!;
  }

  /** |Σ units of asset a − (initial Σ + minted − burned)|. */
  errorUnits(asset: number): number {
    let sum = 0;
    let c = 0;
    for (let h = 0; h < this.qty.length; h++) {
      if (this.holderAsset[h] !== asset) continue;
      const y = this.qty[h]! - c;
      const t = sum + y;
      c = t - sum - y;
      sum = t;
    }
    return Math.abs(sum - this.initialTotal[asset]! - this.minted[asset]! + this.burned[asset]!);
  }
}
