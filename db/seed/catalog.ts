// The demo's fixed cast: three tenants in three verticals, their users, their
// campaigns (names, platforms, volumes), the A/B tests and the industry
// benchmarks. Numbers here are medians; generate.ts adds days, seasonality,
// trends and noise. Ids are fixed so tests and e2e specs can name them.

export type Platform = 'meta' | 'google' | 'tiktok' | 'linkedin';
export type Vertical = 'ecommerce' | 'lead_generation' | 'apps';
export type MemberRole = 'viewer' | 'buyer' | 'admin';
export type AllocationStrategy = 'performance' | 'even' | 'manual' | 'target_roas' | 'target_cpa';
export type PlantedKind = 'cpa_doubled' | 'spend_spike' | 'tracking_drop' | 'budget_capped_winner' | 'adset_zero_conversions';

export const PLATFORM_LABEL: Readonly<Record<Platform, string>> = {
  meta: 'Meta',
  google: 'Google',
  tiktok: 'TikTok',
  linkedin: 'LinkedIn',
};

export interface DemoTenant {
  /** 1-based position, used in every id derived for this tenant. */
  readonly no: number;
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly vertical: Vertical;
  readonly currency: 'EUR' | 'USD';
  /** How the pages write its numbers and days (saas.tenants.locale). */
  readonly locale: string;
  /** Prefix of campaign names, as agencies name them. */
  readonly prefix: string;
  readonly platforms: readonly Platform[];
}

export const DEMO_TENANTS = [
  {
    no: 1,
    id: 'a0e91500-0000-4000-8000-000000000001',
    name: 'Northwind Outfitters',
    slug: 'northwind-outfitters',
    vertical: 'ecommerce',
    currency: 'EUR',
    locale: 'en-GB',
    prefix: 'NW',
    platforms: ['meta', 'google', 'tiktok'],
  },
  {
    no: 2,
    id: 'a0e91500-0000-4000-8000-000000000002',
    name: 'Harbor Lending',
    slug: 'harbor-lending',
    vertical: 'lead_generation',
    currency: 'USD',
    locale: 'en-US',
    prefix: 'HL',
    platforms: ['google', 'meta', 'linkedin'],
  },
  {
    no: 3,
    id: 'a0e91500-0000-4000-8000-000000000003',
    name: 'Pixel Quest Games',
    slug: 'pixel-quest-games',
    vertical: 'apps',
    currency: 'USD',
    locale: 'en-US',
    prefix: 'PQ',
    platforms: ['meta', 'google', 'tiktok'],
  },
] as const satisfies readonly DemoTenant[];

export type DemoTenantId = (typeof DEMO_TENANTS)[number]['id'];

export const DEMO_PASSWORD = 'demo-password';

export interface DemoUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly memberships: readonly { readonly tenantId: DemoTenantId; readonly role: MemberRole }[];
}

const [T1, T2, T3] = [DEMO_TENANTS[0].id, DEMO_TENANTS[1].id, DEMO_TENANTS[2].id];

/** Ids are used for new accounts; an existing account with the same email keeps its own id. */
export const DEMO_USERS: readonly DemoUser[] = [
  {
    id: 'a0e91500-0000-4000-8001-000000000001',
    email: 'admin@demo.test',
    name: 'Alex Admin',
    memberships: [
      { tenantId: T1, role: 'admin' },
      { tenantId: T2, role: 'admin' },
      { tenantId: T3, role: 'admin' },
    ],
  },
  {
    id: 'a0e91500-0000-4000-8001-000000000002',
    email: 'buyer@demo.test',
    name: 'Blake Buyer',
    memberships: [{ tenantId: T1, role: 'buyer' }],
  },
  {
    id: 'a0e91500-0000-4000-8001-000000000003',
    email: 'viewer@demo.test',
    name: 'Vic Viewer',
    memberships: [{ tenantId: T1, role: 'viewer' }],
  },
  {
    id: 'a0e91500-0000-4000-8001-000000000004',
    email: 'admin@harbor.test',
    name: 'Harper Harbor',
    memberships: [{ tenantId: T2, role: 'admin' }],
  },
  {
    id: 'a0e91500-0000-4000-8001-000000000005',
    email: 'admin@pixelquest.test',
    name: 'Parker Quest',
    memberships: [{ tenantId: T3, role: 'admin' }],
  },
];

// ---------------------------------------------------------------------------
// Campaign types: median delivery per vertical. cpa and value_per_conversion
// are in the tenant currency; ctr is a fraction. The conversion rate follows:
// cvr = cpc / cpa with cpc = cpm / (1000 * ctr).
// ---------------------------------------------------------------------------
export interface TypeProfile {
  readonly cpm: number;
  readonly ctr: number;
  readonly cpa: number;
  readonly valuePerConversion: number;
  /** Ad set names offered to campaigns of this type (3 to 5 are used; a fifth is a creative test). */
  readonly adsets: readonly string[];
}

const ECOM_GEO = ['DE', 'FR', 'NL+BE', 'AT+CH'] as const;

export const TYPE_PROFILES: Readonly<Record<Vertical, Readonly<Record<string, TypeProfile>>>> = {
  ecommerce: {
    meta_prospecting: { cpm: 9.5, ctr: 0.012, cpa: 34, valuePerConversion: 80, adsets: ['Women 25-44 | DE', 'Men 25-44 | DE', 'All 25-54 | FR', 'All 25-54 | NL+BE'] },
    meta_retargeting: { cpm: 14, ctr: 0.019, cpa: 20, valuePerConversion: 74, adsets: ['Viewed product 1-3d', 'Viewed product 4-7d', 'Added to cart 1-7d', 'Added to cart 8-14d'] },
    meta_advantage: { cpm: 10.5, ctr: 0.014, cpa: 27, valuePerConversion: 82, adsets: ECOM_GEO.map((g) => `Advantage+ | ${g}`) },
    meta_retention: { cpm: 12, ctr: 0.016, cpa: 22, valuePerConversion: 90, adsets: ['Buyers 31-90d', 'Buyers 91-180d', 'VIP customers', 'Newsletter subscribers'] },
    google_brand: { cpm: 38, ctr: 0.029, cpa: 18, valuePerConversion: 80, adsets: ['Brand | Exact', 'Brand + product | Exact', 'Brand | Phrase', 'Brand misspellings'] },
    google_search: { cpm: 30, ctr: 0.024, cpa: 36, valuePerConversion: 88, adsets: ['Exact', 'Phrase', 'Broad | Smart bidding', 'DSA'] },
    google_shopping: { cpm: 16, ctr: 0.015, cpa: 30, valuePerConversion: 84, adsets: ['Top sellers', 'Mid performers', 'Long tail', 'Sale items'] },
    google_pmax: { cpm: 14, ctr: 0.013, cpa: 28, valuePerConversion: 86, adsets: ['Asset group | Hero products', 'Asset group | Seasonal', 'Asset group | Accessories', 'Asset group | Brand'] },
    google_display: { cpm: 6.5, ctr: 0.0065, cpa: 42, valuePerConversion: 78, adsets: ['In-market | Outdoor apparel', 'Custom segment | Hiking', 'Remarketing | Visitors 30d', 'Similar | Buyers'] },
    tiktok_infeed: { cpm: 7, ctr: 0.011, cpa: 38, valuePerConversion: 70, adsets: ['18-24 | Interest fashion', '25-34 | Interest outdoor', 'Broad 18-44', 'Lookalike | Purchasers'] },
    tiktok_spark: { cpm: 7.5, ctr: 0.013, cpa: 35, valuePerConversion: 72, adsets: ['Creator @trailtessa', 'Creator @maxoutdoors', 'Creator @urbanlayers', 'Creator mix | Broad'] },
    tiktok_catalog: { cpm: 8, ctr: 0.012, cpa: 33, valuePerConversion: 76, adsets: ['Catalog | All products', 'Catalog | Footwear', 'Catalog | Outerwear', 'Catalog | Accessories'] },
    tiktok_retargeting: { cpm: 10, ctr: 0.015, cpa: 24, valuePerConversion: 70, adsets: ['Video viewers 75% | 30d', 'Profile visitors | 30d', 'Site visitors | 14d', 'Engagers | 60d'] },
  },
  lead_generation: {
    google_search: { cpm: 36, ctr: 0.026, cpa: 68, valuePerConversion: 150, adsets: ['Exact', 'Phrase', 'Broad | Smart bidding', 'RLSA | Past applicants'] },
    google_brand: { cpm: 30, ctr: 0.03, cpa: 28, valuePerConversion: 150, adsets: ['Brand | Exact', 'Brand + product | Exact', 'Brand | Phrase', 'Brand misspellings'] },
    google_pmax: { cpm: 16, ctr: 0.012, cpa: 62, valuePerConversion: 140, adsets: ['Asset group | Personal loans', 'Asset group | Debt consolidation', 'Asset group | Home equity', 'Asset group | Auto refinance'] },
    google_display: { cpm: 9, ctr: 0.008, cpa: 75, valuePerConversion: 130, adsets: ['In-market | Loans', 'Custom segment | Refinance', 'Life events | Moving', 'Similar | Funded borrowers'] },
    meta_lead: { cpm: 15, ctr: 0.011, cpa: 42, valuePerConversion: 95, adsets: ['US Northeast', 'US South', 'US Midwest', 'US West'] },
    meta_conversions: { cpm: 16, ctr: 0.012, cpa: 55, valuePerConversion: 120, adsets: ['Broad 25-64', 'LAL 1% Funded', 'Site visitors 30d', 'Rate checkers 60d'] },
    linkedin_lead: { cpm: 34, ctr: 0.0068, cpa: 105, valuePerConversion: 260, adsets: ['Job title | Owner & CEO', 'Job function | Finance, Director+', 'Company size 11-200', 'Matched audience | Site 90d'] },
    linkedin_sponsored: { cpm: 31, ctr: 0.0062, cpa: 115, valuePerConversion: 250, adsets: ['Industry | Construction', 'Industry | Manufacturing', 'Industry | Healthcare', 'Industry | Retail'] },
  },
  apps: {
    meta_installs: { cpm: 9, ctr: 0.012, cpa: 3.4, valuePerConversion: 0.85, adsets: ['US | iOS', 'US | Android', 'CA+UK+AU | Android', 'DE+FR | Android'] },
    meta_tier2: { cpm: 5.2, ctr: 0.016, cpa: 2.2, valuePerConversion: 0.32, adsets: ['BR | Android', 'MX | Android', 'IN | Android', 'ID | Android'] },
    meta_events: { cpm: 13, ctr: 0.011, cpa: 6.5, valuePerConversion: 2.4, adsets: ['US | Payers LAL 1%', 'US | Payers LAL 3%', 'CA+UK+AU | Payers LAL', 'Broad | Value optimised'] },
    meta_reengagement: { cpm: 11, ctr: 0.014, cpa: 2.6, valuePerConversion: 1.1, adsets: ['Lapsed 8-30d', 'Lapsed 31-90d', 'Churned payers', 'Tutorial drop-offs'] },
    google_installs: { cpm: 12, ctr: 0.018, cpa: 4.2, valuePerConversion: 1.0, adsets: ['Ad group | Gameplay video', 'Ad group | Playable', 'Ad group | Static banners', 'Ad group | HTML5'] },
    google_actions: { cpm: 14, ctr: 0.017, cpa: 7.5, valuePerConversion: 2.2, adsets: ['Ad group | Tutorial complete', 'Ad group | Level 10', 'Ad group | First purchase', 'Ad group | Guild joined'] },
    google_engagement: { cpm: 10, ctr: 0.02, cpa: 3.0, valuePerConversion: 1.2, adsets: ['Lapsed 7-30d', 'Lapsed 31-90d', 'Past payers', 'Event launch'] },
    tiktok_installs: { cpm: 6.5, ctr: 0.015, cpa: 2.8, valuePerConversion: 0.6, adsets: ['Android | 18-24', 'Android | 25-34', 'iOS | 18-34', 'Broad | Smart+'] },
    tiktok_retargeting: { cpm: 8, ctr: 0.017, cpa: 2.4, valuePerConversion: 0.9, adsets: ['Lapsed players | 30d', 'Lapsed players | 90d', 'Non-payers | 14d', 'Engagers | 60d'] },
  },
};

export interface CampaignDef {
  readonly platform: Platform;
  /** Key into TYPE_PROFILES[vertical]. */
  readonly type: string;
  /** Name after "<prefix> | <Platform> | ". */
  readonly label: string;
  /** Expected conversions per day at today's level (before weekday factors). */
  readonly conversions: number;
  readonly strategy?: AllocationStrategy;
  readonly planted?: PlantedKind;
  /** For the budget-capped winner: its fixed daily budget and target ROAS. */
  readonly dailyBudget?: number;
  readonly targetRoas?: number;
  /** Expected ROAS of the campaign, when it must not follow its type. */
  readonly roas?: number;
  /** adset_zero_conversions: the usual daily spend of the ad set that stops converting. */
  readonly zeroAdsetSpend?: number;
  /** A B2B campaign: business-day conversions only (WEEKDAY_B2B); steady, the engine must stay quiet on it. */
  readonly b2b?: true;
}

export const CAMPAIGNS: Readonly<Record<Vertical, readonly CampaignDef[]>> = {
  ecommerce: [
    { platform: 'meta', type: 'meta_prospecting', label: 'Prospecting | Broad | Spring Collection', conversions: 42 },
    { platform: 'meta', type: 'meta_prospecting', label: 'Prospecting | LAL 2% Purchasers', conversions: 48, planted: 'cpa_doubled' },
    { platform: 'meta', type: 'meta_retargeting', label: 'Retargeting | DPA Viewed 7d', conversions: 36 },
    { platform: 'meta', type: 'meta_retargeting', label: 'Retargeting | Cart Abandoners 14d', conversions: 30 },
    { platform: 'meta', type: 'meta_advantage', label: 'Advantage+ Shopping | Bestsellers', conversions: 64, strategy: 'performance' },
    { platform: 'meta', type: 'meta_prospecting', label: 'Prospecting | Interests Outdoor & Hiking', conversions: 28 },
    { platform: 'meta', type: 'meta_prospecting', label: "Prospecting | Women's Outerwear", conversions: 30 },
    { platform: 'meta', type: 'meta_retention', label: 'Retention | Past Buyers 180d', conversions: 26 },
    { platform: 'meta', type: 'meta_prospecting', label: 'Prospecting | Reels | Trail Running', conversions: 27 },
    { platform: 'google', type: 'google_brand', label: 'Search | Brand | Exact', conversions: 70, strategy: 'manual' },
    { platform: 'google', type: 'google_search', label: 'Search | Generic | Rain Jackets', conversions: 32 },
    { platform: 'google', type: 'google_search', label: 'Search | Generic | Hiking Boots', conversions: 30 },
    { platform: 'google', type: 'google_search', label: 'Search | Competitors', conversions: 26 },
    { platform: 'google', type: 'google_shopping', label: 'Shopping | Footwear', conversions: 40 },
    { platform: 'google', type: 'google_shopping', label: 'Shopping | Outerwear', conversions: 36 },
    {
      platform: 'google',
      type: 'google_pmax',
      label: 'PMax | Bestsellers',
      conversions: 0, // follows from the capped budget
      planted: 'budget_capped_winner',
      dailyBudget: 1200,
      targetRoas: 2.5,
      roas: 4.8,
      strategy: 'target_roas',
    },
    { platform: 'google', type: 'google_pmax', label: 'PMax | New Arrivals', conversions: 34 },
    { platform: 'google', type: 'google_display', label: 'Demand Gen | Lookalike Buyers', conversions: 26, strategy: 'performance' },
    { platform: 'google', type: 'google_display', label: 'Display | Remarketing 30d', conversions: 26 },
    { platform: 'tiktok', type: 'tiktok_spark', label: 'Spark Ads | Creator Hauls', conversions: 30, planted: 'spend_spike' },
    { platform: 'tiktok', type: 'tiktok_infeed', label: 'In-Feed | Spring Drop', conversions: 28 },
    { platform: 'tiktok', type: 'tiktok_catalog', label: 'Catalog | Dynamic Showcase', conversions: 30, strategy: 'performance' },
    { platform: 'tiktok', type: 'tiktok_infeed', label: 'Prospecting | Gen Z Outdoor', conversions: 26 },
    { platform: 'tiktok', type: 'tiktok_retargeting', label: 'Retargeting | Video Engagers 30d', conversions: 26 },
  ],
  lead_generation: [
    { platform: 'google', type: 'google_search', label: 'Search | Personal Loans | Exact', conversions: 44, planted: 'tracking_drop' },
    { platform: 'google', type: 'google_search', label: 'Search | Personal Loans | Broad', conversions: 34 },
    { platform: 'google', type: 'google_search', label: 'Search | Debt Consolidation', conversions: 36 },
    { platform: 'google', type: 'google_search', label: 'Search | Home Equity (HELOC)', conversions: 28 },
    { platform: 'google', type: 'google_search', label: 'Search | Auto Refinance', conversions: 30 },
    { platform: 'google', type: 'google_brand', label: 'Search | Brand | Exact', conversions: 52, strategy: 'manual' },
    { platform: 'google', type: 'google_search', label: 'Search | Competitors', conversions: 26 },
    { platform: 'google', type: 'google_pmax', label: 'PMax | Loan Leads', conversions: 32 },
    { platform: 'google', type: 'google_display', label: 'Demand Gen | In-market Borrowers', conversions: 26, strategy: 'even' },
    { platform: 'meta', type: 'meta_lead', label: 'Lead Ads | Debt Consolidation | Broad', conversions: 40 },
    { platform: 'meta', type: 'meta_lead', label: 'Lead Ads | Personal Loans | LAL 1% Funded', conversions: 36 },
    { platform: 'meta', type: 'meta_lead', label: 'Lead Ads | Home Improvement Loans', conversions: 28, planted: 'adset_zero_conversions', zeroAdsetSpend: 250 },
    { platform: 'meta', type: 'meta_conversions', label: 'Conversions | Rate Check | Retargeting 30d', conversions: 30 },
    { platform: 'meta', type: 'meta_lead', label: 'Lead Ads | Auto Refinance', conversions: 28 },
    { platform: 'meta', type: 'meta_conversions', label: 'Conversions | Rate Check | Broad', conversions: 30 },
    { platform: 'meta', type: 'meta_lead', label: 'Lead Ads | Credit Builder', conversions: 26, strategy: 'even' },
    { platform: 'linkedin', type: 'linkedin_lead', label: 'Lead Gen Forms | Business Loans | Owners & CFOs', conversions: 28, b2b: true },
    { platform: 'linkedin', type: 'linkedin_lead', label: 'Lead Gen Forms | SBA Loans | Small Business', conversions: 26 },
    { platform: 'linkedin', type: 'linkedin_sponsored', label: 'Sponsored Content | Equipment Financing', conversions: 24 },
    { platform: 'linkedin', type: 'linkedin_sponsored', label: 'Conversation Ads | Working Capital', conversions: 24, strategy: 'manual' },
  ],
  apps: [
    { platform: 'meta', type: 'meta_installs', label: 'App Installs | Advantage+ App | Broad', conversions: 700 },
    { platform: 'meta', type: 'meta_installs', label: 'App Installs | LAL 1% Payers', conversions: 340 },
    { platform: 'meta', type: 'meta_installs', label: 'App Installs | Interests Puzzle & Strategy', conversions: 260 },
    { platform: 'meta', type: 'meta_events', label: 'App Events | Purchase | Payers LAL', conversions: 120, strategy: 'performance' },
    { platform: 'meta', type: 'meta_reengagement', label: 'Re-engagement | Lapsed Players 30d', conversions: 150 },
    { platform: 'meta', type: 'meta_tier2', label: 'App Installs | Tier 2 Markets', conversions: 820 },
    { platform: 'meta', type: 'meta_installs', label: 'App Installs | Playable Ads', conversions: 300 },
    { platform: 'google', type: 'google_installs', label: 'App Campaign | Installs | US', conversions: 500 },
    { platform: 'google', type: 'google_installs', label: 'App Campaign | Installs | CA UK AU', conversions: 320 },
    { platform: 'google', type: 'google_actions', label: 'App Campaign | In-app Actions | Tutorial Complete', conversions: 200, strategy: 'performance' },
    { platform: 'google', type: 'google_engagement', label: 'App Campaign | Engagement | Lapsed Players', conversions: 140 },
    { platform: 'google', type: 'google_installs', label: 'App Campaign | Installs | DE FR', conversions: 260 },
    { platform: 'google', type: 'google_installs', label: 'App Campaign | Installs | LATAM', conversions: 600 },
    { platform: 'tiktok', type: 'tiktok_installs', label: 'App Installs | Smart+ | Broad', conversions: 650 },
    { platform: 'tiktok', type: 'tiktok_installs', label: 'App Installs | Gaming Interest', conversions: 380 },
    { platform: 'tiktok', type: 'tiktok_installs', label: 'App Installs | Spark Ads Creators', conversions: 300 },
    { platform: 'tiktok', type: 'tiktok_installs', label: 'App Installs | Playables', conversions: 250 },
    { platform: 'tiktok', type: 'tiktok_retargeting', label: 'Retargeting | Lapsed Players', conversions: 120, strategy: 'performance' },
  ],
};

// ---------------------------------------------------------------------------
// Weekly seasonality, indexed by getUTCDay() (0 = Sunday). Spend follows
// demand; conversion rates move less. Amplitudes stay moderate so a detector
// comparing a day with the trailing weeks does not mistake a weekend for an
// anomaly.
// ---------------------------------------------------------------------------
export interface WeekdayProfile {
  readonly spend: readonly [number, number, number, number, number, number, number];
  readonly cvr: readonly [number, number, number, number, number, number, number];
}

export const WEEKDAY: Readonly<Record<Vertical, WeekdayProfile>> = {
  // Shoppers browse on Sunday evening and Monday; Friday and Saturday are quiet.
  ecommerce: { spend: [1.06, 1.02, 1.0, 0.99, 0.98, 0.95, 0.96], cvr: [1.03, 1.01, 1.0, 0.99, 0.99, 0.98, 0.98] },
  // Borrowers apply during office hours; weekends dip.
  lead_generation: { spend: [0.94, 1.03, 1.03, 1.02, 1.02, 0.99, 0.93], cvr: [0.98, 1.01, 1.01, 1.01, 1.0, 0.99, 0.97] },
  // Players install on weekends.
  apps: { spend: [1.06, 0.97, 0.96, 0.97, 0.98, 1.02, 1.07], cvr: [1.02, 0.99, 0.98, 0.99, 1.0, 1.01, 1.02] },
};

/**
 * B2B lead forms: decision makers fill them in on business days only. The
 * campaign keeps delivering at the weekend (at under half the spend) and
 * converts nothing then: a zero on Saturday and Sunday is normal for it.
 */
export const WEEKDAY_B2B: WeekdayProfile = {
  spend: [0.45, 1.12, 1.16, 1.16, 1.14, 1.04, 0.42],
  cvr: [0, 1.12, 1.16, 1.16, 1.12, 0.96, 0],
};

/** Extra ad set name when a campaign has five (the profiles name four). */
export const FIFTH_ADSET_NAME = 'Broad | Creative test';

// ---------------------------------------------------------------------------
// A/B tests. Two ways a test is measured, as in the product (docs/ab-tests.md,
// db/migrations/013_ab_tests.sql):
//   'cells'   two test-cell ad sets in the campaign, copies of its largest ad
//             set, which is paused while the test runs; the cells split its
//             budget (planned share of B, allocation unit 'spend') and are
//             simulated day by day with the variants' rates below and the
//             generator's noise (series.ts). Their platform ids are the
//             variants (ads_engine.ab_test_variants); their daily rows, summed,
//             are the totals.
//   'entered' totals entered by hand from a report outside the ad sets (a
//             landing-page tool, a platform's experiment report): clicks x the
//             rates below; the traffic is split (allocation unit 'impressions').
// ab-tests.ts reads every test with the product's own statistics
// (lib/abtests): the winner, the significance and the reading of the daily
// loop. expectWinner and expectDecision state the outcome intended and are
// checked against the computed one.
// ---------------------------------------------------------------------------
export interface VariantDef {
  /** Clicks / impressions. */
  readonly ctr: number;
  /** Cost per click, tenant currency; the cost per mille follows (cpc x ctr x 1000). */
  readonly cpc: number;
  /** Conversions / clicks. */
  readonly cvr: number;
  readonly valuePerConversion: number;
  /** Entered tests: the variant's clicks over the test. Test cells have none: their clicks follow from their spend. */
  readonly clicks?: number;
}

/** ads.ab_tests.primary_metric. */
export type AbTestMetric = 'conversion_rate' | 'ctr' | 'cpa' | 'roas' | 'cpc';

export interface AbTestDef {
  readonly name: string;
  /** Index (0-based) of the tenant's campaign the test runs in. */
  readonly campaignIndex: number;
  readonly testType: 'creative' | 'audience' | 'bidding' | 'landing_page' | 'placement' | 'other';
  readonly hypothesis: string;
  readonly primaryMetric: AbTestMetric;
  readonly variantA: string;
  readonly variantB: string;
  readonly a: VariantDef;
  readonly b: VariantDef;
  readonly measuredBy: 'cells' | 'entered';
  /** Planned share of B: of the budget (test cells) or of the traffic (entered). */
  readonly plannedShareB: number;
  /** Minimum detectable relative effect of the design (sets the sequential test's mixing variance). */
  readonly mde: number;
  readonly status: 'running' | 'completed';
  /** Days before today of the first day and (completed) the last day of the test. */
  readonly startDaysAgo: number;
  readonly endDaysAgo: number | null;
  /** Completed: the winner the statistics conclude ('none': no difference shown). Running: the winner latched so far, or null. */
  readonly expectWinner: 'A' | 'B' | 'none' | null;
  /** Running: the decision of its latest reading. */
  readonly expectDecision?: 'winner_a' | 'winner_b' | 'no_winner_yet' | 'not_enough_data';
}

// The variants of a test in cells: A (the control) carries the rates of the
// ad set the cells copy, so the campaign does not change when the test starts;
// B moves the metric the test is about. Completed tests in cells ended more
// than five weeks ago, so no day of a cell or of the paused ad set falls in
// the weeks the daily loop's anomaly checks compare yesterday with.
export const AB_TESTS: Readonly<Record<Vertical, readonly AbTestDef[]>> = {
  ecommerce: [
    {
      name: 'Creator UGC video vs studio product video',
      campaignIndex: 0,
      testType: 'creative',
      hypothesis: 'A creator filming the jacket in the rain stops the scroll: more clicks per impression than the studio cut.',
      primaryMetric: 'ctr',
      variantA: 'Studio product video',
      variantB: 'Creator UGC video',
      a: { ctr: 0.0122, cpc: 0.84, cvr: 0.0218, valuePerConversion: 80 },
      b: { ctr: 0.014, cpc: 0.735, cvr: 0.0212, valuePerConversion: 79 },
      measuredBy: 'cells',
      plannedShareB: 0.4,
      mde: 0.1,
      status: 'completed',
      startDaysAgo: 78,
      endDaysAgo: 51,
      expectWinner: 'B',
    },
    {
      name: 'Advantage+ audience vs LAL 2% stack',
      campaignIndex: 4,
      testType: 'audience',
      hypothesis: 'Letting Meta find the audience matches a hand-built lookalike stack on cost per purchase.',
      primaryMetric: 'cpa',
      variantA: 'LAL 2% stack',
      variantB: 'Advantage+ audience',
      a: { ctr: 0.013, cpc: 0.9, cvr: 0.0348, valuePerConversion: 78 },
      b: { ctr: 0.0133, cpc: 0.88, cvr: 0.0352, valuePerConversion: 79 },
      measuredBy: 'cells',
      plannedShareB: 0.5,
      mde: 0.15,
      status: 'running',
      startDaysAgo: 24,
      endDaysAgo: null,
      expectWinner: null,
      expectDecision: 'no_winner_yet',
    },
    {
      name: 'Free-shipping banner vs 10% off banner',
      campaignIndex: 13,
      testType: 'landing_page',
      hypothesis: 'A discount on the landing page beats the free-shipping message.',
      primaryMetric: 'conversion_rate',
      variantA: 'Free shipping over 50 EUR',
      variantB: '10% off first order',
      a: { clicks: 16_400, ctr: 0.0141, cpc: 1.13, cvr: 0.0352, valuePerConversion: 86 },
      b: { clicks: 16_250, ctr: 0.014, cpc: 1.14, cvr: 0.0281, valuePerConversion: 78 },
      measuredBy: 'entered',
      plannedShareB: 0.5,
      mde: 0.1,
      status: 'completed',
      startDaysAgo: 45,
      endDaysAgo: 17,
      expectWinner: 'A',
    },
    {
      name: 'tROAS 300% vs maximise conversion value',
      campaignIndex: 16,
      testType: 'bidding',
      hypothesis: 'A 300% target ROAS keeps volume while raising value per euro.',
      primaryMetric: 'roas',
      variantA: 'Maximise conversion value',
      variantB: 'Target ROAS 300%',
      a: { clicks: 12_900, ctr: 0.0131, cpc: 1.08, cvr: 0.0356, valuePerConversion: 88 },
      b: { clicks: 12_700, ctr: 0.0129, cpc: 1.06, cvr: 0.0366, valuePerConversion: 92 },
      measuredBy: 'entered',
      plannedShareB: 0.5,
      mde: 0.15,
      status: 'completed',
      startDaysAgo: 40,
      endDaysAgo: 12,
      expectWinner: 'none',
    },
  ],
  lead_generation: [
    {
      name: 'Short form (3 fields) vs long form (7 fields)',
      campaignIndex: 1,
      testType: 'landing_page',
      hypothesis: 'Asking for income and employer later lifts completed applications.',
      primaryMetric: 'conversion_rate',
      variantA: 'Long form, 7 fields',
      variantB: 'Short form, 3 fields',
      a: { clicks: 22_400, ctr: 0.0243, cpc: 1.41, cvr: 0.0196, valuePerConversion: 152 },
      b: { clicks: 22_300, ctr: 0.0242, cpc: 1.4, cvr: 0.0258, valuePerConversion: 141 },
      measuredBy: 'entered',
      plannedShareB: 0.5,
      mde: 0.15,
      status: 'completed',
      startDaysAgo: 55,
      endDaysAgo: 27,
      expectWinner: 'B',
    },
    {
      name: 'LinkedIn document ad vs single image',
      campaignIndex: 17,
      testType: 'creative',
      hypothesis: 'A rate-sheet document ad earns more completed lead forms than a single image.',
      primaryMetric: 'conversion_rate',
      variantA: 'Single image',
      variantB: 'Document ad (rate sheet)',
      a: { ctr: 0.006, cpc: 5.65, cvr: 0.0545, valuePerConversion: 258 },
      b: { ctr: 0.0066, cpc: 5.3, cvr: 0.056, valuePerConversion: 262 },
      measuredBy: 'cells',
      plannedShareB: 0.5,
      mde: 0.15,
      status: 'completed',
      startDaysAgo: 76,
      endDaysAgo: 49,
      expectWinner: 'none',
    },
    {
      name: "CTA 'Check your rate' vs 'Get pre-approved'",
      campaignIndex: 9,
      testType: 'creative',
      hypothesis: 'A no-commitment call to action gets more leads from the same clicks.',
      primaryMetric: 'conversion_rate',
      variantA: 'Get pre-approved',
      variantB: 'Check your rate',
      a: { ctr: 0.0106, cpc: 1.32, cvr: 0.0361, valuePerConversion: 100 },
      b: { ctr: 0.0112, cpc: 1.25, cvr: 0.0398, valuePerConversion: 97 },
      measuredBy: 'cells',
      plannedShareB: 0.5,
      mde: 0.15,
      status: 'running',
      startDaysAgo: 9,
      endDaysAgo: null,
      expectWinner: null,
      expectDecision: 'not_enough_data',
    },
  ],
  apps: [
    {
      name: 'Playable ad vs gameplay video',
      campaignIndex: 6,
      testType: 'creative',
      hypothesis: 'Letting players try level 1 in the ad lifts click-to-install.',
      primaryMetric: 'conversion_rate',
      variantA: 'Gameplay video 15s',
      variantB: 'Playable level 1',
      a: { ctr: 0.0121, cpc: 0.73, cvr: 0.2755, valuePerConversion: 0.93 },
      b: { ctr: 0.0126, cpc: 0.7, cvr: 0.366, valuePerConversion: 0.97 },
      measuredBy: 'cells',
      plannedShareB: 0.5,
      mde: 0.1,
      status: 'completed',
      startDaysAgo: 72,
      endDaysAgo: 45,
      expectWinner: 'B',
    },
    {
      name: 'Broad vs gaming-interest targeting',
      campaignIndex: 14,
      testType: 'audience',
      hypothesis: 'Smart+ broad targeting finds players as cheaply as the interest stack.',
      primaryMetric: 'cpa',
      variantA: 'Gaming interest stack',
      variantB: 'Broad (Smart+)',
      a: { ctr: 0.0155, cpc: 0.457, cvr: 0.1474, valuePerConversion: 0.65 },
      b: { ctr: 0.0152, cpc: 0.45, cvr: 0.143, valuePerConversion: 0.62 },
      measuredBy: 'cells',
      plannedShareB: 0.5,
      mde: 0.1,
      status: 'completed',
      startDaysAgo: 66,
      endDaysAgo: 45,
      expectWinner: 'none',
    },
    {
      name: 'Target CPI 4 USD vs 5 USD',
      campaignIndex: 7,
      testType: 'bidding',
      hypothesis: 'A tighter target cost per install keeps enough scale to be worth it.',
      primaryMetric: 'cpa',
      variantA: 'Target CPI 5 USD',
      variantB: 'Target CPI 4 USD',
      a: { clicks: 30_000, ctr: 0.019, cpc: 0.66, cvr: 0.17, valuePerConversion: 1.0 },
      b: { clicks: 28_000, ctr: 0.01774, cpc: 0.6, cvr: 0.168, valuePerConversion: 1.02 },
      measuredBy: 'entered',
      plannedShareB: 0.5,
      mde: 0.1,
      status: 'completed',
      startDaysAgo: 33,
      endDaysAgo: 12,
      expectWinner: 'B',
    },
    {
      name: 'Gameplay hook vs logo intro',
      campaignIndex: 2,
      testType: 'creative',
      hypothesis: 'Opening on gameplay in the first second stops the scroll: more clicks per impression than the logo intro.',
      primaryMetric: 'ctr',
      variantA: 'Logo intro 3s',
      variantB: 'Gameplay in the first second',
      a: { ctr: 0.0122, cpc: 0.74, cvr: 0.2075, valuePerConversion: 0.81 },
      b: { ctr: 0.0141, cpc: 0.645, cvr: 0.2, valuePerConversion: 0.8 },
      measuredBy: 'cells',
      plannedShareB: 0.5,
      mde: 0.1,
      status: 'running',
      startDaysAgo: 18,
      endDaysAgo: null,
      expectWinner: 'B',
      expectDecision: 'winner_b',
    },
  ],
};

// ---------------------------------------------------------------------------
// Industry benchmarks (medians) per vertical and platform. Currency amounts
// are indicative, rates are fractions. Percentiles spread log-normally around
// the median (see generate.ts).
// ---------------------------------------------------------------------------
export type BenchmarkMetric = 'ctr' | 'cpc' | 'cpm' | 'cpa' | 'roas' | 'conversion_rate';

export const BENCHMARK_MEDIANS: Readonly<Record<Vertical, Partial<Record<Platform, Readonly<Record<BenchmarkMetric, number>>>>>> = {
  ecommerce: {
    meta: { ctr: 0.0115, cpc: 0.85, cpm: 10, cpa: 36, roas: 2.3, conversion_rate: 0.024 },
    google: { ctr: 0.02, cpc: 1.05, cpm: 21, cpa: 32, roas: 2.7, conversion_rate: 0.033 },
    tiktok: { ctr: 0.011, cpc: 0.68, cpm: 7.5, cpa: 40, roas: 1.8, conversion_rate: 0.017 },
    linkedin: { ctr: 0.005, cpc: 5.5, cpm: 28, cpa: 95, roas: 1.2, conversion_rate: 0.058 },
  },
  lead_generation: {
    meta: { ctr: 0.0105, cpc: 1.45, cpm: 15, cpa: 48, roas: 2.2, conversion_rate: 0.03 },
    google: { ctr: 0.024, cpc: 1.6, cpm: 38, cpa: 72, roas: 2.0, conversion_rate: 0.022 },
    tiktok: { ctr: 0.009, cpc: 0.9, cpm: 8, cpa: 55, roas: 1.5, conversion_rate: 0.016 },
    linkedin: { ctr: 0.006, cpc: 6.2, cpm: 37, cpa: 115, roas: 2.2, conversion_rate: 0.054 },
  },
  apps: {
    meta: { ctr: 0.012, cpc: 0.78, cpm: 9.5, cpa: 3.8, roas: 0.22, conversion_rate: 0.2 },
    google: { ctr: 0.017, cpc: 0.7, cpm: 12, cpa: 4.5, roas: 0.25, conversion_rate: 0.16 },
    tiktok: { ctr: 0.014, cpc: 0.47, cpm: 6.5, cpa: 3.0, roas: 0.18, conversion_rate: 0.16 },
  },
};

export const BENCHMARK_SOURCE = 'AEGIS demo benchmarks (synthetic)';

// ---------------------------------------------------------------------------
// Platform ids. Shaped like each platform's own (Meta 18 digits, Google 10,
// TikTok 19, LinkedIn 9) and derived from tenant and campaign position, so
// they never change between runs. An ad set's id is its campaign's id with
// the last two digits replaced by its 1-based number.
// ---------------------------------------------------------------------------
const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export function campaignPlatformId(platform: Platform, tenantNo: number, campaignNo: number): string {
  const c = pad(campaignNo, 3);
  switch (platform) {
    case 'meta':
      return `120${tenantNo}${c}00000000000`;
    case 'google':
      return `2${tenantNo}${c}00000`;
    case 'tiktok':
      return `17${tenantNo}${c}0000000000000`;
    case 'linkedin':
      return `6${tenantNo}${c}0000`;
  }
}

export function adsetPlatformId(campaignId: string, adsetNo: number): string {
  return `${campaignId.slice(0, -2)}${pad(adsetNo, 2)}`;
}

export function campaignName(tenant: DemoTenant, def: CampaignDef): string {
  return `${tenant.prefix} | ${PLATFORM_LABEL[def.platform]} | ${def.label}`;
}

/** Fixed uuids for rows whose primary key is a generated uuid, so reseeding writes the same ids. */
export function demoUuid(kind: 'budget' | 'ab_test' | 'recommendation', tenantNo: number, n: number): string {
  const k = kind === 'budget' ? '8002' : kind === 'ab_test' ? '8003' : '8004';
  return `a0e91500-000${tenantNo}-4000-${k}-${pad(n, 12)}`;
}
