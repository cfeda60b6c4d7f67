import { EntityRegistry } from '../../src/entities/entity-registry';
import { SnapshotStore } from '../../src/journal/snapshot-store';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Memory budget: point-in-time reads. A `?at=`/`?asOf=` read decoded the whole snapshot it
 * starts from, which POINT_IN_TIME_MAX_EVENTS does not bound (6 reads of a big cache: +1.35 GB).
 * Now the snapshot's stored size is checked before it is decoded, the state a replay grows is
 * bounded too (POINT_IN_TIME_MAX_BYTES, 422), and an org has at most POINT_IN_TIME_MAX_PER_ORG
 * of them running (429).
 */
describe('budget: point-in-time reads', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'pit' });
  const other = tokenFor({ org: 'pit-other' });
  const VALUE = Buffer.alloc(8 * 1024, 7);
  beforeAll(async () => {
    app = await startTestApp({ env: { POINT_IN_TIME_MAX_BYTES: String(64 * 1024), POINT_IN_TIME_MAX_PER_ORG: '1', JOURNAL_SYNC: 'none' } });
    for (const cache of ['big', 'grow']) {
      for (let i = 0; i < 20; i++) expect((await http(`${app.url}/${cache}/k${i}`, { method: 'POST', token, body: VALUE })).status).toBe(201);
    }
    await app.app.get(EntityRegistry).entity({ org: 'pit', name: 'big' }).snapshot(); // 160 KiB stored at seq 21
    expect((await http(`${app.url}/small/k`, { method: 'POST', token: other, body: Buffer.from('then') })).status).toBe(201);
  });
  afterAll(() => app.dispose());

  it('refuses a point whose snapshot is stored larger than POINT_IN_TIME_MAX_BYTES, before decoding it', async () => {
    const snapshots = app.app.get(SnapshotStore);
    expect(await snapshots.seqs({ org: 'pit', name: 'big' })).toEqual([21]);
    for (const path of ['/big/k0?at=21', '/get/big/k0?at=21', '/cacheName/big/keys?at=21']) {
      const answer = await http(`${app.url}${path}`, { token });
      expect(answer.status).toBe(422);
      expect(answer.json().code).toBe('POINT_IN_TIME_TOO_LARGE');
      expect(answer.json().message).toContain('POINT_IN_TIME_MAX_BYTES');
    }
    // A point before that snapshot replays a few events: within the budget.
    const early = await http(`${app.url}/big/k0?at=2`, { token });
    expect(early.status).toBe(200);
    expect(early.body.equals(VALUE)).toBe(true);
  });

  it('refuses a point whose replay grows the state past POINT_IN_TIME_MAX_BYTES', async () => {
    const answer = await http(`${app.url}/cacheName/grow/keys?at=21`, { token });
    expect(answer.status).toBe(422);
    expect(answer.json().code).toBe('POINT_IN_TIME_TOO_LARGE');
    expect((await http(`${app.url}/cacheName/grow/keys?at=5`, { token })).status).toBe(200);
  });

  it("a read of one key at a point holds that key's value alone, so the same point is within the budget for it", async () => {
    for (const path of ['/grow/k0?at=21', '/get/grow/k19?at=21']) expect((await http(`${app.url}${path}`, { token })).status).toBe(200);
    const past = await http(`${app.url}/grow/k19?at=21`, { token });
    expect(past.body.equals(VALUE)).toBe(true);
    expect((await http(`${app.url}/grow/k19?at=20`, { token })).status).toBe(404);
  });

  it('an org has at most POINT_IN_TIME_MAX_PER_ORG point-in-time reads running; another org is not counted', async () => {
    const snapshots = app.app.get(SnapshotStore);
    const load = snapshots.load.bind(snapshots);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    // Holds the org's first point-in-time read inside its snapshot lookup.
    snapshots.load = async (ref, maxSeq, maxBytes) => {
      if (ref.org === 'pit') {
        entered();
        await gate;
      }
      return load(ref, maxSeq, maxBytes);
    };
    try {
      const first = http(`${app.url}/grow/k0?at=5`, { token });
      await inside;
      const second = await http(`${app.url}/get/grow/k1?at=5`, { token });
      expect(second.status).toBe(429);
      expect(second.json().code).toBe('TOO_MANY_POINT_IN_TIME_READS');
      expect((await http(`${app.url}/small/k?at=2`, { token: other })).text).toBe('then');
      // Plain reads are not point-in-time reads.
      expect((await http(`${app.url}/grow/k1`, { token })).status).toBe(200);
      release();
      expect((await first).status).toBe(200);
      expect((await http(`${app.url}/get/grow/k1?at=5`, { token })).status).toBe(200);
    } finally {
      release();
      snapshots.load = load;
    }
  });
});
