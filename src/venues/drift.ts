// Drift protocol v2 (Solana). Sources: github.com/drift-labs/protocol-v2, read 2026-11 (stored copy
// at 006ba85ca242aeadc28c4c0423bdcb6609ce264b):
//  [B]  programs/drift/src/controller/liquidation.rs — resolve_perp_bankruptcy
//  [M]  programs/drift/src/math/liquidation.rs — calculate_funding_rate_deltas_to_resolve_bankruptcy
//  [S]  programs/drift/src/state/perp_market.rs — InsuranceClaim, default_test
//  [T]  programs/drift/src/controller/liquidation/tests.rs — fee fixtures
import type { ExchangeProfile } from './types.ts';

export const drift: ExchangeProfile = {
  name: 'drift',
  exchange: {
    liquidation: {
      // liquidate_perp takes the base needed to cover the margin shortage, not the whole position.
      mode: 'partial',
      // [T] if_liquidation_fee: LIQUIDATION_FEE_PRECISION / 100 (1%), the share that goes to the
      // insurance fund. Test fixture value; mainnet values are set per market on chain.
      penaltyFraction: 0.01,
    },
    // [B] the bankruptcy is resolved by the insurance fund, the market's fee pool, then the
    // cumulative funding rate: there is no auto-deleveraging of opposite positions.
    adl: { ranking: 'none', price: 'bankruptcy' },
    // [B]/[M] cumulative_funding_rate_long += Δ and cumulative_funding_rate_short −= Δ with
    // Δ = loss / (|base long| + |base short|): every open position pays, pro rata to its size.
    socialization: 'funding-index',
  },
  // Markets keep the experiment's tiers ([S] default_test: margin_ratio_initial 1000 = 10%,
  // margin_ratio_maintenance 500 = 5%, in MARGIN_PRECISION 10 000). [B]/[S] the per-market cap on
  // insurance claims (quote_max_insurance − quote_settled_insurance) is the market's
  // insuranceClaimCapUsd, and amm.fee_pool its feePoolUsd.
};
