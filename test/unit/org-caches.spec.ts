import { OrgCaches } from '../../src/entities/org-caches';

/** OrgCaches admits commands that may create a cache: a name counted once, refusals only at the limit. */
describe('OrgCaches', () => {
  const loaded = async (live: number, limit: number) => {
    const caches = new OrgCaches(async () => live, limit);
    await caches.load('acme');
    return caches;
  };
  const enter = (caches: OrgCaches, name: string, log: string[]) => caches.enter('acme', name, (admitted) => log.push(`${name}:${admitted ? 'in' : 'refused'}`));

  it('admits while live + names in flight stay under the limit, then makes commands wait instead of refusing', async () => {
    const caches = await loaded(1, 3);
    const log: string[] = [];
    enter(caches, 'a', log);
    enter(caches, 'b', log);
    enter(caches, 'c', log); // 1 live + a + b: waits
    expect(log).toStrictEqual(['a:in', 'b:in']);
    // a is decided (counted live) before it is answered: c still waits, it is not refused.
    expect(caches.tryTake('acme')).toBe(true);
    expect(log).toStrictEqual(['a:in', 'b:in']);
    caches.leave('acme', 'a'); // a answered: 2 live + b in flight, c waits on
    expect(log).toStrictEqual(['a:in', 'b:in']);
    caches.leave('acme', 'b'); // b was refused (not created): room for c
    expect(log).toStrictEqual(['a:in', 'b:in', 'c:in']);
    expect(caches.tryTake('acme')).toBe(true); // c created: 3 live
    enter(caches, 'd', log); // c still in flight: waits
    caches.leave('acme', 'c');
    expect(log.at(-1)).toBe('d:refused'); // refused only once the live caches alone are at the limit
    enter(caches, 'e', log);
    expect(log.at(-1)).toBe('e:refused');
  });

  it('lets a name’s waiting commands go together and in order; once it is in flight its later commands go at once', async () => {
    const caches = await loaded(0, 1);
    const log: string[] = [];
    enter(caches, 'a', log);
    enter(caches, 'x', log);
    enter(caches, 'y', log);
    enter(caches, 'x', log);
    expect(log).toStrictEqual(['a:in']);
    caches.leave('acme', 'a'); // a refused: room for one name, x's two commands go together
    expect(log).toStrictEqual(['a:in', 'x:in', 'x:in']);
    enter(caches, 'x', log); // x is in flight: its later command goes at once
    expect(log.at(-1)).toBe('x:in');
    for (let i = 0; i < 3; i++) caches.leave('acme', 'x');
    expect(log.at(-1)).toBe('y:in');
  });

  it('a deletion that frees a slot lets waiting commands go', async () => {
    const caches = await loaded(2, 3);
    const log: string[] = [];
    enter(caches, 'a', log);
    enter(caches, 'b', log);
    expect(log).toStrictEqual(['a:in']);
    caches.release('acme');
    expect(log).toStrictEqual(['a:in', 'b:in']);
  });

  it('stays cheap for a batch over 10,000 new names at a limit of 50', async () => {
    const caches = await loaded(0, 50);
    const log: string[] = [];
    for (let i = 0; i < 10_000; i++) enter(caches, `n${i}`, log);
    expect(log).toHaveLength(50);
    for (let i = 0; i < 50; i++) {
      expect(caches.tryTake('acme')).toBe(true);
      caches.leave('acme', `n${i}`);
    }
    expect(log).toHaveLength(10_000);
    expect(log.filter((line) => line.endsWith(':refused'))).toHaveLength(9_950);
  });
});
