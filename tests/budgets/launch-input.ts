// The launch form's budget bounds and A/B step as a buyer fills them, for the suites that post a launch: the
// launch's own (launch.test.ts) and the security fuzz, which builds its hostile inputs on them.
import { addDays } from '../../lib/abtests/schema';

/** The budget's bounds: no minimum, at most 300 a day. */
export const LAUNCH_BOUNDS = { minBudget: '', maxBudget: '300' };

/**
 * The A/B step, ticked: a creative test of a video hook (ad sets as-101 and as-102) against a carousel (as-201),
 * on conversion rate with a 10 % effect to find, started now and ending 28 days after `today`.
 */
export function launchAbStep(today: string): Record<string, string> {
  return {
    abtest: 'on',
    abName: 'Hook test',
    abType: 'creative',
    variantA: 'Video hook',
    sourceA: 'ids',
    idsA: 'as-101\nas-102',
    variantB: 'Carousel hook',
    sourceB: 'ids',
    idsB: 'as-201',
    idsLevel: 'adset',
    metric: 'conversion_rate',
    mde: '10',
    endDate: addDays(today, 28),
    startNow: 'on',
  };
}
