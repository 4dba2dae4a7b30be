// European options under Black–Scholes–Merton (continuous carry/dividend yield q): price and the
// Greeks the margin code needs, written into a caller-provided object so pricing a grid of
// scenarios allocates nothing. The normal CDF comes from W. J. Cody's rational Chebyshev erfc,
// accurate to ~1e-16 absolute, so deep out-of-the-money tails keep their relative accuracy.

/** Price and sensitivities of one option (per unit of underlying). */
export interface OptionGreeks {
  /** Option value, in the currency of spot and strike (USD here). */
  price: number;
  /** ∂price/∂spot, a fraction in [−1, 1] (× e^{−qT}). */
  delta: number;
  /** ∂²price/∂spot², per USD of spot. */
  gamma: number;
  /** ∂price/∂vol per 1.00 (100 points) of annual volatility — divide by 100 for "per 1%". */
  vega: number;
  /** ∂price/∂t per year of calendar time passing (= −∂price/∂years); divide by 365 for per day. */
  theta: number;
}

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969)
// 631–638; coefficients as in Cody's netlib SPECFUN routine CALERF (revised 19 March 1990), which
// approximates erf/erfc to at least 18 significant digits on three intervals of |x|.
// |x| ≤ 0.46875: erf(x) = x · A(x²)/B(x²).
const A0 = 3.1611237438705656, A1 = 113.864154151050156, A2 = 377.485237685302021, A3 = 3209.37758913846947, A4 = 0.185777706184603153;
const B0 = 23.6012909523441209, B1 = 244.024637934444173, B2 = 1282.61652607737228, B3 = 2844.23683343917062;
// 0.46875 < |x| ≤ 4: erfc(x) = e^{−x²} · C(x)/D(x).
const C0 = 0.564188496988670089, C1 = 8.88314979438837594, C2 = 66.1191906371416295, C3 = 298.635138197400131;
const C4 = 881.95222124176909, C5 = 1712.04761263407058, C6 = 2051.07837782607147, C7 = 1230.33935479799725, C8 = 2.15311535474403846e-8;
const D0 = 15.7449261107098347, D1 = 117.693950891312499, D2 = 537.181101862009858, D3 = 1621.38957456669019;
const D4 = 3290.79923573345963, D5 = 4362.61909014324716, D6 = 3439.36767414372164, D7 = 1230.33935480374942;
// |x| > 4: erfc(x) = e^{−x²}/x · (1/√π − z·P(z)/Q(z)), z = 1/x².
const P0 = 0.305326634961232344, P1 = 0.360344899949804439, P2 = 0.125781726111229246;
const P3 = 0.0160837851487422766, P4 = 6.58749161529837803e-4, P5 = 0.0163153871373020978;
const Q0 = 2.56852019228982242, Q1 = 1.87295284992346047, Q2 = 0.527905102951428412, Q3 = 0.0605183413124413191, Q4 = 0.00233520497626869185;
const INV_SQRT_PI = 0.56418958354775628695;
/** erfc underflows to 0 in double precision beyond this argument (Cody's XBIG for IEEE doubles). */
const ERFC_X_BIG = 26.543;
const INV_SQRT_2 = 0.70710678118654752440;
const INV_SQRT_2PI = 0.39894228040143267794;

/**
 * e^{−y²} for y ≥ 0, computed as e^{−t²}·e^{−(y−t)(y+t)} with t = y rounded down to 1/16, as Cody
 * does, so the rounding error of y² is not amplified by the exponential for large y.
 */
function expMinusSquare(y: number): number {
  const t = Math.trunc(y * 16) / 16;
  return Math.exp(-t * t) * Math.exp(-(y - t) * (y + t));
}

/** Complementary error function erfc(x) = 1 − erf(x), absolute error ≲ 1e-16 (Cody 1969). */
export function erfc(x: number): number {
  const y = Math.abs(x);
  let r: number;
  if (y <= 0.46875) {
    const z = y * y;
    const num = (((A4 * z + A0) * z + A1) * z + A2) * z + A3;
    const den = (((z + B0) * z + B1) * z + B2) * z + B3;
    return 1 - (x * num) / den;
  } else if (y <= 4) {
    const num = (((((((C8 * y + C0) * y + C1) * y + C2) * y + C3) * y + C4) * y + C5) * y + C6) * y + C7;
    const den = (((((((y + D0) * y + D1) * y + D2) * y + D3) * y + D4) * y + D5) * y + D6) * y + D7;
    r = (expMinusSquare(y) * num) / den;
  } else if (y >= ERFC_X_BIG) {
    r = 0;
  } else {
    const z = 1 / (y * y);
    const num = ((((P5 * z + P0) * z + P1) * z + P2) * z + P3) * z + P4;
    const den = ((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4;
    r = (expMinusSquare(y) * (INV_SQRT_PI - (z * num) / den)) / y;
  }
  return x < 0 ? 2 - r : r;
}

/** Standard normal cumulative distribution Φ(x) = erfc(−x/√2)/2; absolute error ≤ 1e-16. */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x * INV_SQRT_2);
}

/** Standard normal density φ(x) = e^{−x²/2}/√(2π). */
export function normPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/**
 * Black–Scholes–Merton price and Greeks of a European option, written into `out` (also returned).
 *
 * @param kind   'call' or 'put'.
 * @param spot   underlying price now, USD (≥ 0; 0 gives the S → 0 limit).
 * @param strike strike price, USD (> 0).
 * @param years  time to expiry, years.
 * @param vol    annual volatility as a fraction (0.6 = 60%).
 * @param rate   continuously compounded risk-free rate per year, fraction.
 * @param out    object the result is written into.
 * @param carry  continuous dividend yield / carry q per year, fraction (default 0).
 *
 * Limits: `years ≤ 0` gives the intrinsic value max(±(S − K), 0) with delta ±1 in the money, 0 out
 * of it, ±½ exactly at the money, and gamma = vega = theta = 0. `vol ≤ 0` with `years > 0` gives
 * the σ → 0 limit, the discounted intrinsic value of the forward, max(±(S e^{−qT} − K e^{−rT}), 0),
 * with delta ±e^{−qT} or 0, gamma = vega = 0, and theta the time derivative of that value. Both
 * limits keep put–call parity exact.
 */
export function blackScholes(
  kind: 'call' | 'put',
  spot: number,
  strike: number,
  years: number,
  vol: number,
  rate: number,
  out: OptionGreeks,
  carry = 0,
): OptionGreeks {
  const sign = kind === 'call' ? 1 : -1;
  if (years <= 0) {
    const intrinsic = sign * (spot - strike);
    out.price = intrinsic > 0 ? intrinsic : 0;
    out.delta = intrinsic > 0 ? sign : intrinsic < 0 ? 0 : 0.5 * sign;
    out.gamma = 0;
    out.vega = 0;
    out.theta = 0;
    return out;
  }
  const dfRate = Math.exp(-rate * years);
  const dfCarry = Math.exp(-carry * years);
  const fwdPv = spot * dfCarry; // present value of receiving the underlying at expiry
  const strikePv = strike * dfRate;
  if (vol <= 0 || spot <= 0) {
    // Deterministic forward (σ → 0), or a worthless underlying (S → 0): payoff known today.
    const intrinsic = sign * (fwdPv - strikePv);
    const itm = intrinsic > 0;
    out.price = itm ? intrinsic : 0;
    out.delta = itm ? sign * dfCarry : intrinsic < 0 ? 0 : 0.5 * sign * dfCarry;
    out.gamma = 0;
    out.vega = 0;
    out.theta = itm ? sign * (carry * fwdPv - rate * strikePv) : 0;
    return out;
  }
  const sqrtT = Math.sqrt(years);
  const volSqrtT = vol * sqrtT;
  const d1 = (Math.log(spot / strike) + (rate - carry + 0.5 * vol * vol) * years) / volSqrtT;
  const d2 = d1 - volSqrtT;
  const pdf1 = normPdf(d1);
  // N(±d1), N(±d2) taken on the side where the option's own tail sits, so OTM prices stay accurate.
  const nd1 = normCdf(sign * d1);
  const nd2 = normCdf(sign * d2);
  out.price = sign * (fwdPv * nd1 - strikePv * nd2);
  out.delta = sign * dfCarry * nd1;
  out.gamma = (dfCarry * pdf1) / (spot * volSqrtT);
  out.vega = fwdPv * pdf1 * sqrtT;
  out.theta = (-fwdPv * pdf1 * vol) / (2 * sqrtT) + sign * (carry * fwdPv * nd1 - rate * strikePv * nd2);
  return out;
}
