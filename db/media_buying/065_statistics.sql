-- Media Buying, 065_statistics: the engine's tests (negative binomial counts,
-- compound conversion value, false-discovery control). Pure arithmetic: no
-- table is read. The model they serve is stated in docs/engine.md.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- The standard normal distribution function, through the complementary error
-- function of Numerical Recipes (erfcc: fractional error under 1.2e-7 over the
-- whole line, so tail probabilities of 1e-9 keep their digits). PostgreSQL 15
-- has no erf().
CREATE OR REPLACE FUNCTION ads_engine.normal_cdf(p_z float8) RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  x float8 := -p_z / sqrt(2.0);
  t float8 := 1.0 / (1.0 + 0.5 * abs(x));
  r float8;
BEGIN
  -- beyond |z| = 37 the tails are below 1e-300 (and exp() would underflow)
  IF p_z > 37 THEN RETURN 1; END IF;
  IF p_z < -37 THEN RETURN 0; END IF;
  r := t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
       + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  IF x < 0 THEN r := 2.0 - r; END IF;
  RETURN 0.5 * r;
END
$$;
COMMENT ON FUNCTION ads_engine.normal_cdf(float8) IS
  'Standard normal distribution function Phi(z) (complementary error function to a fractional error under 1.2e-7, so small tails are accurate).';

-- One-sided mid-p value of a count under the negative binomial with mean mu
-- and variance mu + phi mu^2 (phi = 0: Poisson). 'lower': P(X < k) + P(X = k)/2,
-- the chance of so few; 'upper': P(X > k) + P(X = k)/2, of so many. Mid-p
-- keeps a discrete test from being conservative by a whole atom.
-- Exact summation of the probabilities up to k while mu <= 500 and k <= 2000;
-- beyond, the normal approximation with the same mean and variance (counts
-- that large are near normal).
CREATE OR REPLACE FUNCTION ads_engine.count_p_value(
  p_observed numeric, p_expected numeric, p_phi numeric, p_direction text)
RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  k integer;
  mu float8 := p_expected;
  phi float8 := greatest(coalesce(p_phi, 0), 0);
  r float8;
  q float8;
  pmf float8;
  below float8 := 0;  -- P(X < k)
  sd float8;
BEGIN
  IF p_observed IS NULL OR p_expected IS NULL OR p_observed < 0 OR p_expected < 0 THEN
    RETURN NULL;
  END IF;
  IF p_direction IS NULL OR p_direction NOT IN ('lower', 'upper') THEN
    RAISE EXCEPTION 'direction must be lower or upper (got %)', coalesce(p_direction, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF p_observed = 'NaN'::numeric OR p_expected = 'NaN'::numeric OR p_phi = 'NaN'::numeric THEN
    RETURN NULL;
  END IF;
  IF p_expected <= 0 THEN
    RETURN CASE WHEN p_direction = 'lower' THEN CASE WHEN round(p_observed) = 0 THEN 0.5 ELSE 1 END
                ELSE CASE WHEN round(p_observed) = 0 THEN 0.5 ELSE 0 END END;
  END IF;
  -- large counts: the normal approximation (decided before any cast to integer)
  IF mu > 500 OR p_observed > 2000 THEN
    sd := sqrt(mu + phi * mu * mu);
    IF p_direction = 'lower' THEN
      RETURN ads_engine.normal_cdf((round(p_observed)::float8 - mu) / sd);
    END IF;
    RETURN 1 - ads_engine.normal_cdf((round(p_observed)::float8 - mu) / sd);
  END IF;
  k := round(p_observed)::integer;
  -- P(X = 0), then P(X = j + 1) = P(X = j) x mu / (j + 1) (Poisson) or
  -- x (j + r) / (j + 1) x mu / (r + mu) (negative binomial of size r = 1 / phi)
  IF phi < 1e-9 THEN
    pmf := exp(-mu);
  ELSE
    r := 1 / phi;
    q := mu / (r + mu);
    pmf := exp(r * ln(r / (r + mu)));
  END IF;
  FOR j IN 0 .. k - 1 LOOP
    below := below + pmf;
    -- past the mode the terms only shrink: once negligible, so is the tail
    -- from k on (and float8 would underflow)
    IF j > mu AND pmf < 1e-250 THEN
      pmf := 0;
      EXIT;
    END IF;
    pmf := pmf * CASE WHEN phi < 1e-9 THEN mu / (j + 1) ELSE (j + r) / (j + 1) * q END;
  END LOOP;
  IF p_direction = 'lower' THEN
    RETURN least(1, below + 0.5 * pmf);
  END IF;
  RETURN greatest(0, 1 - below - 0.5 * pmf);
END
$$;
COMMENT ON FUNCTION ads_engine.count_p_value(numeric, numeric, numeric, text) IS
  'One-sided mid-p value of observing p_observed (rounded) events under a negative binomial of mean p_expected and variance mu + phi mu^2 (phi 0: Poisson): '
  '''lower'' = P(X < k) + P(X = k)/2, ''upper'' = P(X > k) + P(X = k)/2. Exact up to mu 500 and k 2000, then the normal approximation.';

-- One-sided p-value of a conversion value (a sum of order values) against its
-- expectation and variance under the null. A sum of k skewed order values is
-- close to log-normal (Fenton-Wilkinson): the test is on the log scale with
-- sigma^2 = ln(1 + var / E^2). p_zero is the chance of no value at all (no
-- conversion) under the null: a value of 0 has lower mid-p p_zero / 2.
CREATE OR REPLACE FUNCTION ads_engine.value_p_value(
  p_observed numeric, p_expected numeric, p_variance numeric, p_zero float8, p_direction text)
RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  s2 float8;
  z float8;
  pz float8 := least(1, greatest(coalesce(p_zero, 0), 0));
  below float8;
BEGIN
  IF p_observed IS NULL OR p_expected IS NULL OR p_variance IS NULL OR p_observed < 0 OR p_expected <= 0 OR p_variance < 0 THEN
    RETURN NULL;
  END IF;
  IF p_direction IS NULL OR p_direction NOT IN ('lower', 'upper') THEN
    RAISE EXCEPTION 'direction must be lower or upper (got %)', coalesce(p_direction, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF p_observed = 0 THEN
    RETURN CASE WHEN p_direction = 'lower' THEN pz / 2 ELSE 1 - pz / 2 END;
  END IF;
  s2 := ln(1 + p_variance::float8 / (p_expected::float8 * p_expected::float8));
  IF s2 <= 0 THEN
    RETURN CASE WHEN (p_direction = 'lower') = (p_observed < p_expected) THEN 0 ELSE 1 END;
  END IF;
  z := (ln(p_observed::float8) - (ln(p_expected::float8) - s2 / 2)) / sqrt(s2);
  below := pz + (1 - pz) * ads_engine.normal_cdf(z);
  RETURN CASE WHEN p_direction = 'lower' THEN below ELSE 1 - below END;
END
$$;
COMMENT ON FUNCTION ads_engine.value_p_value(numeric, numeric, numeric, float8, text) IS
  'One-sided p-value of a conversion value p_observed against expectation E and variance V under the null, on the log scale '
  '(log-normal with sigma^2 = ln(1 + V/E^2), Fenton-Wilkinson), with an atom p_zero at 0 (no conversion).';

-- Variance of a period's conversion value when conversions are negative
-- binomial (mean k, dispersion phi, plus the relative variance rel_var of the
-- rate estimate) and each order's value has mean aov and coefficient of
-- variation kappa: Var = aov^2 (k + phi k^2 + rel_var k^2) + k aov^2 kappa^2.
CREATE OR REPLACE FUNCTION ads_engine.value_variance(
  p_conversions numeric, p_aov numeric, p_kappa numeric, p_phi numeric, p_rel_var numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p_aov * p_aov * (p_conversions * (1 + coalesce(p_kappa, 0) * coalesce(p_kappa, 0))
                          + (coalesce(p_phi, 0) + coalesce(p_rel_var, 0)) * p_conversions * p_conversions)
$$;
COMMENT ON FUNCTION ads_engine.value_variance(numeric, numeric, numeric, numeric, numeric) IS
  'Variance of a conversion value: aov^2 (k (1 + kappa^2) + (phi + rel_var) k^2) for k expected conversions (negative binomial, dispersion phi, '
  'rate uncertainty rel_var) and order values of mean aov and coefficient of variation kappa (compound sum).';

-- The false-discovery level of a run from a platform's anomaly_sensitivity s
-- (the robust z-score of the first engine: higher = fewer alerts). s keeps
-- its meaning as "how many standard deviations", now for the whole run: q is
-- a hundred times the two-sided tail beyond s, at most 0.2. s = 3.5 gives
-- q = 0.047; s = 3 gives 0.2; s = 5 gives 0.00006.
CREATE OR REPLACE FUNCTION ads_engine.fdr_level(p_sensitivity numeric) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT least(0.2, 200 * (1 - ads_engine.normal_cdf(coalesce(p_sensitivity, 3.5)::float8)))
$$;
COMMENT ON FUNCTION ads_engine.fdr_level(numeric) IS
  'False-discovery level q of a run from anomaly_sensitivity s: min(0.2, 100 x 2 (1 - Phi(s))); 0.047 at the default 3.5.';

-- Benjamini-Hochberg: the largest p-value p_(i) with p_(i) <= i q / m among
-- the m p-values; every test with p <= that cut is a discovery. -1 when none
-- passes (so "p <= cut" selects nothing). NULLs are not tests.
CREATE OR REPLACE FUNCTION ads_engine.bh_cut(p_values float8[], p_q float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(max(s.p) FILTER (WHERE s.p <= s.i * p_q / s.m), -1)
  FROM (SELECT v.p, row_number() OVER (ORDER BY v.p) AS i, count(*) OVER () AS m
        FROM unnest(p_values) AS v(p) WHERE v.p IS NOT NULL) s
$$;
COMMENT ON FUNCTION ads_engine.bh_cut(float8[], float8) IS
  'Benjamini-Hochberg cut at level q: the largest p_(i) <= i q / m (m = non-NULL p-values); -1 when no p-value passes. Discoveries: p <= cut.';

-- Money floors are in the tenant's currency: 50 is a small spend in euros and
-- nothing in yen. The scale of a currency's unit against the euro, rounded to
-- a power-of-ten-ish step (a floor, not a conversion rate).
CREATE OR REPLACE FUNCTION ads_engine.currency_scale(p_currency text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE upper(coalesce(p_currency, 'EUR'))
    WHEN 'JPY' THEN 150 WHEN 'KRW' THEN 1500 WHEN 'HUF' THEN 400 WHEN 'INR' THEN 90 WHEN 'IDR' THEN 17000
    WHEN 'VND' THEN 27000 WHEN 'CLP' THEN 1000 WHEN 'COP' THEN 4500 WHEN 'ISK' THEN 150 WHEN 'CZK' THEN 25
    WHEN 'SEK' THEN 11 WHEN 'NOK' THEN 11 WHEN 'DKK' THEN 7.5 WHEN 'PLN' THEN 4.3 WHEN 'MXN' THEN 20
    WHEN 'BRL' THEN 6 WHEN 'ZAR' THEN 20 WHEN 'TRY' THEN 40 WHEN 'THB' THEN 38 WHEN 'PHP' THEN 62
    WHEN 'CNY' THEN 8 WHEN 'HKD' THEN 8.5 WHEN 'TWD' THEN 35 WHEN 'RON' THEN 5 WHEN 'UAH' THEN 45
    WHEN 'NGN' THEN 1700 WHEN 'KES' THEN 140 WHEN 'EGP' THEN 53 WHEN 'ARS' THEN 1000 WHEN 'PKR' THEN 300
    ELSE 1 END::numeric
$$;
COMMENT ON FUNCTION ads_engine.currency_scale(text) IS
  'Approximate size of one euro in the currency (JPY 150, KRW 1500, INR 90, ...; 1 for EUR, USD, GBP, CHF and unknown codes): '
  'min_spend_for_decision is multiplied by it, so a floor of 50 means about 50 euros of spend in any currency.';

-- Weights of the weighted Benjamini-Hochberg procedure (Genovese, Roeder and
-- Wasserman): test i is a discovery when p_i / w_i passes BH, with the
-- weights of a run normalised to average 1, which keeps the false-discovery
-- rate at q. A campaign's test weighs 4 times an ad set's (a campaign has
-- about four ad sets: together they weigh as much as it); the tests a buyer
-- acts on (CPA, sustained shifts, pause and budget rules) weigh more than
-- the diagnostic ones (spend, CTR, CPC, CPM, weekday pattern). Evidence that is
-- overwhelming (a dead ad set, a tracking loss) passes at any weight.
CREATE OR REPLACE FUNCTION ads_engine.test_weight(p_level text, p_kind text) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT (CASE WHEN p_level = 'campaign' THEN 4 ELSE 1 END
          * CASE WHEN p_kind IN ('cpa', 'trend', 'pause', 'budget') THEN 2
                 WHEN p_kind IN ('roas', 'bid') THEN 1
                 ELSE 0.5 END)::float8
$$;
COMMENT ON FUNCTION ads_engine.test_weight(text, text) IS
  'Raw weight of a test in the weighted Benjamini-Hochberg of a run (normalised to mean 1 per run): level campaign 4, ad set 1; times 2 for '
  'cpa, trend, pause and budget tests, 1 for roas and bid, 0.5 for the rest (spend, ctr, cpc, creative, audience, timing: a spend jump worth '
  'raising has a tiny p-value anyway).';

SET LOCAL aegis.media_part_065_statistics = 'done';
