import { describe, expect, it } from 'vitest';
import { figuresTable, fileStamp, formatNumber, formatValue, linearFit, markdownTable, ratioOf, workersReading, type Figure } from '../../bench/report';

describe('the benchmark tables', () => {
  it('print numbers with at most three significant figures below a thousand', () => {
    expect(formatNumber(0.04567)).toBe('0.046');
    expect(formatNumber(3.14159)).toBe('3.14');
    expect(formatNumber(42.42)).toBe('42.4');
    expect(formatNumber(512.6)).toBe('513');
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(0)).toBe('0');
    expect(formatValue(2.5, 'x')).toBe('2.50x');
    expect(formatValue(1234.4, 'count')).toBe('1,234');
    expect(formatValue(7.25, 'ms')).toBe('7.25 ms');
  });

  it('give each figure its floor, the ratio and whether the target is met', () => {
    const rows: Figure[] = [
      { section: 'loop', name: 'all tenants', value: 30, unit: 's', floor: { key: 'F2', value: 4 }, target: { text: '<= 5x floor', met: false } },
      { section: 'guide', name: 'query | with a bar', value: 1.5, unit: 'ms', target: { text: '< 50 ms', met: true } },
    ];
    expect(ratioOf(rows[0]!)).toBe(7.5);
    expect(ratioOf(rows[1]!)).toBeNull();
    const lines = figuresTable(rows).split('\n');
    expect(lines[0]).toBe('|  | figure | value | floor | ratio | target |');
    expect(lines[1]).toBe('| --- | --- | ---: | ---: | ---: | --- |');
    expect(lines[2]).toBe('| loop | all tenants | 30.0 s | F2: 4.00 s | 7.50x | <= 5x floor: **not met** |');
    // a pipe in a cell would end it
    expect(lines[3]).toBe('| guide | query \\| with a bar | 1.50 ms |  |  | < 50 ms: met |');
  });

  it('fill short rows of a markdown table', () => {
    expect(markdownTable(['a', 'b'], [['1']], ['l', 'r'])).toBe('| a | b |\n| --- | ---: |\n| 1 |  |');
  });

  it('fit a line through the growth points', () => {
    // y = 2 + 0.5 x exactly, then one point 10 % above it
    const exact = linearFit([
      { x: 100, y: 52 },
      { x: 300, y: 152 },
      { x: 1000, y: 502 },
    ])!;
    expect(exact.slope).toBeCloseTo(0.5, 12);
    expect(exact.intercept).toBeCloseTo(2, 9);
    expect(exact.maxDeviation).toBeCloseTo(0, 12);
    const off = linearFit([
      { x: 0, y: 10 },
      { x: 1, y: 10 },
      { x: 2, y: 13 },
    ])!;
    // least squares: slope 1.5, intercept 9.5; residuals 0.5, -1, 0.5 -> the largest relative one is 1 / 10
    expect(off.slope).toBeCloseTo(1.5, 12);
    expect(off.intercept).toBeCloseTo(9.5, 12);
    expect(off.maxDeviation).toBeCloseTo(0.1, 12);
    expect(linearFit([{ x: 1, y: 1 }])).toBeNull();
  });

  it('name result files by their UTC time without colons', () => {
    expect(fileStamp(new Date('2026-12-02T01:05:09.123Z'))).toBe('2026-12-02T01-05-09Z');
  });
});

describe('the reading of the worker runs', () => {
  const runs = (four: number) => [
    { workers: 1, tenants_per_s: 5 },
    { workers: 2, tenants_per_s: 9 },
    { workers: 4, tenants_per_s: four },
  ];
  it('says more workers than cores queue when they gain nothing', () => {
    expect(workersReading(runs(9.5), 2)).toMatch(/^4 workers on 2 cores are no faster than 2 \(1\.06x\)/);
  });
  it('says the cores were shared when more workers than cores still gain', () => {
    expect(workersReading(runs(12.6), 2)).toMatch(/^4 workers on 2 cores went 1\.40x faster than 2: the cores were shared/);
  });
  it('has nothing to say without a run past the cores', () => {
    expect(workersReading(runs(12), 4)).toBe('');
  });
});
