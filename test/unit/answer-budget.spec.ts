import { AnswerBudget } from '../../src/core/answer-budget';

/** The answer budget without a transport: what a listener charges, asks and is told. */
describe('AnswerBudget', () => {
  const limits = { connectionBytes: 100, orgBytes: 250, drainTimeoutMs: 1000 };
  let budget: AnswerBudget;
  beforeEach(() => (budget = new AnswerBudget(limits)));
  afterEach(() => budget.stop());

  it('counts bytes per connection and per org, and gives each charge back once', () => {
    const a = budget.open({ drop: () => undefined });
    const b = budget.open({ drop: () => undefined });
    const first = a.charge('acme', 60);
    b.charge('other', 10);
    expect(budget.orgHeld('acme')).toBe(60);
    expect(budget.total).toBe(70);
    expect(a.mayProduce('acme')).toBe(true);
    a.charge('acme', 50);
    expect(a.mayProduce('acme')).toBe(false); // the connection holds its share
    first();
    first();
    expect(a.bytes).toBe(50);
    expect(budget.orgHeld('acme')).toBe(50);
    a.close();
    expect(budget.orgHeld('acme')).toBe(0);
    expect(budget.total).toBe(10);
  });

  it("an org over its share stops every connection of it, not another org's, and wakes the waiting ones when it falls", () => {
    const woken: string[] = [];
    const hoarders = [0, 1, 2].map((i) => budget.open({ drop: () => undefined, room: () => woken.push(`h${i}`) }));
    const releases = hoarders.map((queue) => queue.charge('acme', 90));
    const fresh = budget.open({ drop: () => undefined, room: () => woken.push('fresh') });
    expect(budget.orgFull('acme')).toBe(true);
    expect(fresh.mayProduce('acme')).toBe(false);
    expect(fresh.mayProduce('other')).toBe(true);
    expect(budget.wouldOverflow('acme', 10_000)).toBe(true);
    expect(budget.wouldOverflow('acme', 100)).toBe(false); // a small answer (a refusal's size) always passes
    fresh.waitFor('acme');
    releases[0]();
    expect(woken).toEqual(['fresh']);
    expect(fresh.mayProduce('acme')).toBe(true);
  });

  it('the sweep closes a connection over a share that made no progress for the drain timeout, and only that one', () => {
    const dropped: string[] = [];
    const stalled = budget.open({ drop: () => dropped.push('stalled'), pending: () => 500 });
    let left = 500;
    const reading = budget.open({ drop: () => dropped.push('reading'), pending: () => left });
    const small = budget.open({ drop: () => dropped.push('small'), pending: () => 50 });
    stalled.charge('acme', 500);
    reading.charge('other', 500);
    small.charge('third', 50);
    const start = performance.now();
    budget.sweep(start);
    left = 400;
    budget.sweep(start + 600);
    left = 300;
    budget.sweep(start + 1200);
    expect(dropped).toEqual(['stalled']);
    expect(budget.orgHeld('acme')).toBe(0);
    expect(budget.dropped).toBe(1);
    budget.sweep(start + 5000);
    expect(dropped).toEqual(['stalled', 'reading']); // it stopped reading too
  });
});

/** Reservations: answers being measured, before any is encoded, count against their org's share together. */
describe('AnswerBudget reservations', () => {
  const KiB = 1024;
  const limits = { connectionBytes: 16 * KiB, orgBytes: 100 * KiB, drainTimeoutMs: 1000 };
  let budget: AnswerBudget;
  beforeEach(() => (budget = new AnswerBudget(limits)));
  afterEach(() => budget.stop());

  it('producers of one org measuring at the same moment cannot together reserve past its share; the rest are refused before building', () => {
    const producers = Array.from({ length: 10 }, () => budget.reserve('acme'));
    // Interleaved, as concurrent requests measure their answers element by element.
    for (let step = 0; step < 4; step++) for (const one of producers) one.take(10 * KiB);
    const granted = producers.filter((one) => one.holding && one.bytes === 40 * KiB);
    expect(granted.length).toBeLessThanOrEqual(Math.floor(limits.orgBytes / (40 * KiB)) + 1);
    expect(budget.orgReserved('acme')).toBeLessThanOrEqual(limits.orgBytes);
    expect(producers.filter((one) => one.refused)).toHaveLength(10 - producers.filter((one) => one.holding).length);
    // A refused reservation holds nothing; another org is not affected.
    expect(producers.filter((one) => one.refused).every((one) => one.bytes === 0)).toBe(true);
    expect(budget.reserve('other').take(90 * KiB)).toBe(true);
    expect(budget.orgFull('acme')).toBe(budget.orgCommitted('acme') >= limits.orgBytes);
  });

  it('a reservation becomes the connection charge when handed over, and is given back once if it never is', () => {
    const queue = budget.open({ drop: () => undefined });
    const reservation = budget.reserve('acme');
    expect(reservation.take(60 * KiB)).toBe(true);
    expect(budget.orgCommitted('acme')).toBe(60 * KiB);
    const release = queue.charge('acme', 62 * KiB, reservation);
    expect(budget.admitted).toBe(1);
    expect(budget.orgReserved('acme')).toBe(0);
    expect(budget.orgHeld('acme')).toBe(62 * KiB);
    // Now held by a socket: a second answer of 60 KiB does not fit, a small one does.
    const second = budget.reserve('acme');
    expect(second.take(60 * KiB)).toBe(false);
    expect(budget.reserve('acme').take(2 * KiB)).toBe(true);
    release();
    const third = budget.reserve('acme');
    expect(third.take(60 * KiB)).toBe(true);
    third.release();
    third.release();
    expect(budget.orgCommitted('acme')).toBe(2 * KiB);
  });

  it('one answer larger than the share passes while the org commits nothing else; reserved bytes wake a waiting connection when given back', () => {
    const alone = budget.reserve('acme');
    expect(alone.take(150 * KiB)).toBe(true);
    const woken: string[] = [];
    const waiting = budget.open({ drop: () => undefined, room: () => woken.push('waiting') });
    expect(waiting.mayProduce('acme')).toBe(false);
    waiting.waitFor('acme');
    expect(budget.reserve('acme').take(8 * KiB)).toBe(false);
    alone.release();
    expect(woken).toEqual(['waiting']);
    expect(budget.refused).toBe(1);
    expect(budget.admitted).toBe(0); // counted when an answer is handed over under its reservation
  });
});
