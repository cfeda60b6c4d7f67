import { matchesIfNoneMatch, parsePoint, parseSeqOrTime } from '../../src/api/history/point-in-time';
import { parseRetention } from '../../src/config/config';

describe('point-in-time and retention input', () => {
  it('parses at, asOf and rejects anything else with a clear 400', () => {
    expect(parsePoint({ at: '12' })).toEqual({ kind: 'seq', seq: 12 });
    expect(parsePoint({ asOf: '2026-01-01T00:00:00Z' })).toEqual({ kind: 'time', time: Date.UTC(2026, 0, 1) });
    expect(parseSeqOrTime('2026-01-02')).toEqual({ kind: 'time', time: Date.UTC(2026, 0, 2) });
    for (const bad of [{ at: '-1' }, { at: '1.5' }, { asOf: 'tomorrow' }, { asOf: '2026-13-45T99:00:00Z' }, { at: '1', asOf: '2026-01-01' }]) {
      expect(() => parsePoint(bad)).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_REQUEST' }));
    }
  });

  it('matches If-None-Match lists, weak tags and *', () => {
    expect(matchesIfNoneMatch('"v1", "v2"', '"v2"')).toBe(true);
    expect(matchesIfNoneMatch('W/"v2"', '"v2"')).toBe(true);
    expect(matchesIfNoneMatch('*', '"v9"')).toBe(true);
    expect(matchesIfNoneMatch('"v1"', '"v2"')).toBe(false);
    expect(matchesIfNoneMatch(undefined, '"v2"')).toBe(false);
  });

  it('reads JOURNAL_RETENTION', () => {
    expect(parseRetention(undefined)).toEqual({ kind: 'all' });
    expect(parseRetention('days:7')).toEqual({ kind: 'days', days: 7 });
    expect(parseRetention('snapshots:2')).toEqual({ kind: 'snapshots', count: 2 });
    expect(parseRetention('days:0')).toBeUndefined();
    expect(parseRetention('weeks:1')).toBeUndefined();
  });
});
