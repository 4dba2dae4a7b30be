// Aave v3 (Ethereum core market). Sources, read 2026-11 (stored copies):
//  [LL] github.com/aave-dao/aave-v3-origin src/contracts/protocol/libraries/logic/LiquidationLogic.sol
//       (v3.3): DEFAULT_LIQUIDATION_CLOSE_FACTOR 0.5e4, CLOSE_FACTOR_HF_THRESHOLD 0.95e18,
//       MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD 2000e8, MIN_LEFTOVER_BASE = that / 2
//  [G]  launch parameters of Aave v3 Ethereum (Gauntlet, January 2023):
//       https://governance.aave.com/t/arc-aave-v3-ethereum-deployment-assets-and-configurations/10238/22
//       Later governance changed several of them; these are the launch values.
import type { InputIssue } from '../experiment/errors.ts';
import type { LendingProfile, Raw } from './types.ts';

/** [G] LTV, liquidation threshold, liquidation bonus (as Aave encodes it), protocol fee. */
export const AAVE_V3_ETHEREUM_2023 = {
  WETH: { ltv: 0.825, liquidationThreshold: 0.86, liquidationBonus: 1.052, liquidationProtocolFee: 0.1 },
  wstETH: { ltv: 0.72, liquidationThreshold: 0.83, liquidationBonus: 1.072, liquidationProtocolFee: 0.1 },
  WBTC: { ltv: 0.72, liquidationThreshold: 0.82, liquidationBonus: 1.052, liquidationProtocolFee: 0.1 },
  USDC: { ltv: 0.865, liquidationThreshold: 0.885, liquidationBonus: 1.048, liquidationProtocolFee: 0.1 },
  USDT: { ltv: 0.75, liquidationThreshold: 0.81, liquidationBonus: 1.053, liquidationProtocolFee: 0.1 },
} as const;

export const aaveV3: LendingProfile = {
  name: 'aave-v3',
  lendingMarket: {
    // [LL] 50% close factor; the whole debt at HF ≤ 0.95 or when the position is under $2,000; a
    // partial liquidation must leave at least $1,000.
    liquidation: { closeFactor: 0.5, fullCloseHealthFactor: 0.95, minBaseMaxCloseFactorUsd: 2000, minLeftoverBaseUsd: 1000 },
  },
  /** A reserve naming a `preset` gets that reserve's parameters; its own fields override them. */
  reserve(reserve: Raw, at: string): { reserve: Raw; issues: InputIssue[] } {
    const preset = reserve.preset;
    if (preset === undefined) return { reserve, issues: [] };
    if (typeof preset !== 'string' || !(preset in AAVE_V3_ETHEREUM_2023)) {
      return {
        reserve,
        issues: [{ path: `${at}.preset`, value: preset, message: `expected one of ${Object.keys(AAVE_V3_ETHEREUM_2023).map((k) => `"${k}"`).join(', ')}` }],
      };
    }
    return { reserve: { ...AAVE_V3_ETHEREUM_2023[preset as keyof typeof AAVE_V3_ETHEREUM_2023], ...reserve }, issues: [] };
  },
};
