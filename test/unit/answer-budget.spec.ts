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
