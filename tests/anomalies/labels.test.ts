// The board's words and rules that need no database: the transitions a card
// offers and a drag means, durations, the feedback sentence and the engine's
// test in plain words, each against text written out by hand.
import { describe, expect, it } from 'vitest';
import { durationText, feedbackText, scoreText, testInWords } from '../../lib/anomalies/labels';
import { boardFilterSchema, boardHref, moveBetween, movesFrom } from '../../lib/anomalies/schema';

const style = { currency: 'EUR', locale: 'en-GB' };

describe('transitions', () => {
  it('offers from each status exactly the moves of the table in docs/anomalies.md', () => {
    expect(movesFrom('active')).toEqual(['acknowledge', 'resolve', 'dismiss', 'snooze']);
    expect(movesFrom('investigating')).toEqual(['resolve', 'dismiss']);
    expect(movesFrom('resolved')).toEqual(['reopen']);
    expect(movesFrom('dismissed')).toEqual(['reopen']);
  });
  it('a drag between columns is the move that joins them, or none', () => {
    expect(moveBetween('active', 'investigating')).toBe('acknowledge');
    expect(moveBetween('investigating', 'resolved')).toBe('resolve');
    expect(moveBetween('resolved', 'active')).toBe('reopen');
    expect(moveBetween('investigating', 'active')).toBeNull();
    expect(moveBetween('resolved', 'investigating')).toBeNull();
  });
});

describe('words', () => {
  it('durations', () => {
    expect(durationText(30)).toBe('1 min');
    expect(durationText(45 * 60)).toBe('45 min');
    expect(durationText(5 * 3600 + 59)).toBe('5 h');
    expect(durationText(3 * 86_400 + 4 * 3600)).toBe('3 d 4 h');
    expect(durationText(2 * 86_400)).toBe('2 d');
  });
  it('feedback: only when something was dismissed', () => {
    expect(feedbackText({ platform: 'meta', metric: 'cpc', type: 'spike', dismissed: 3, total: 9 }, 90)).toBe(
      'CPC spikes on Meta: 3 of 9 dismissed as not anomalies in the last 90 days',
    );
    expect(feedbackText({ platform: 'google', metric: 'conversions', type: 'tracking_loss', dismissed: 1, total: 1 }, 90)).toBe(
      'Conversions tracking losses on Google: 1 of 1 dismissed as not an anomaly in the last 90 days',
    );
    expect(feedbackText({ platform: 'meta', metric: 'cpc', type: 'spike', dismissed: 0, total: 9 }, 90)).toBeNull();
  });
  it("the engine's test and score in plain words", () => {
    const details = { test: 'nb', p_value: 0.0004, p_threshold: 0.002, expected: 12, observed: 6, observed_metric: 'conversions', exposure_metric: 'spend', day: { spend: 240 } };
    expect(testInWords(details, style)).toBe(
      "6 conversions where 12 were expected given its spend of €240 (negative binomial on its own history): the chance of a day this far off if nothing had changed is under 0.1 %; the run's cut (Benjamini-Hochberg, all tests of the day) was 0.20%.",
    );
    expect(testInWords({}, style)).toBeNull();
    expect(scoreText(-3.42)).toBe('Score -3.4: the day is as unlikely as a value 3.4 standard deviations from normal, below it.');
  });
});

describe('filters from the URL', () => {
  it('bad values fall back; the href keeps only what is set', () => {
    const f = boardFilterSchema.parse({ severity: 'urgent', platform: 'meta', level: 'ad', more: 'everything', anomaly: 'nope', dismissed: '1' });
    expect(f).toEqual({ severity: undefined, platform: 'meta', metric: undefined, type: undefined, level: undefined, dismissed: true, snoozed: false, more: undefined, anomaly: undefined });
    expect(boardHref(f, { severity: 'critical' })).toBe('/anomalies?severity=critical&platform=meta&dismissed=1');
    expect(boardHref({})).toBe('/anomalies');
  });
});
