// What a venue profile is: a named bundle of a venue's rules, written as the experiment-file fields
// it fills. An exchange (or lending market) that names a profile gets every field it does not give
// itself from the profile; the fields it gives override the profile's (src/venues/index.ts).
import type { InputIssue } from '../experiment/errors.ts';

/** A fragment of an experiment file (JSON as written). */
export type Raw = Record<string, unknown>;

export interface MarketContext {
  /** Dotted path of the market in the experiment, for messages. */
  at: string;
  /** Initial price of an asset of the scenario, if it has that asset. */
  assetPrice(symbol: string): number | undefined;
}

/** A perp venue's rules. */
export interface ExchangeProfile {
  name: string;
  /** Fields of the exchange the profile fills (deep-merged under the experiment's own). */
  exchange: Raw;
  /** After the merge: fills fields inside blocks only the experiment can give (e.g. its backstop vault). */
  adjust?(exchange: Raw): Raw;
  /** Fills a market's missing fields (its margin tiers, from what the venue derives them from). */
  market?(market: Raw, ctx: MarketContext): { market: Raw; issues: InputIssue[] };
}

/** A lending protocol's rules. */
export interface LendingProfile {
  name: string;
  /** Fields of the lending market the profile fills. */
  lendingMarket: Raw;
  /** Fills a reserve's missing fields from a named preset of the venue's reserve parameters. */
  reserve?(reserve: Raw, at: string): { reserve: Raw; issues: InputIssue[] };
}
