import { EntityRegistry } from '../../src/entities/entity-registry';
import { Journal } from '../../src/journal/journal';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('entities: one writer per cache, passivation, expiry', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'ent' });
  beforeAll(async () => (app = await startTestApp({ env: { ENTITY_IDLE_SECONDS: '1', SNAPSHOT_EVERY: '10' } })));
  afterAll(() => app.dispose());

  it('serializes concurrent writes to one cache: sequence numbers have no gaps and no duplicates', async () => {
    const writes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => http(`${app.url}/busy/k${i % 17}`, { method: 'POST', token, body: Buffer.from(`v${i}`) })),
    );
    expect(writes.every((w) => w.status === 201)).toBe(true);
    const journal = app.app.get(Journal);
    const seqs: number[] = [];
    for await (const { seq } of journal.replay({ org: 'ent', name: 'busy' })) seqs.push(seq);
    expect(seqs).toEqual(Array.from({ length: 201 }, (_, i) => i + 1)); // Created + 200 sets
  });

  it('passivates an idle cache and recovers it on the next request with the same state', async () => {
    const registry = app.app.get(EntityRegistry);
    await http(`${app.url}/idle/k`, { method: 'POST', token, body: Buffer.from('kept') });
    const before = registry.entity({ org: 'ent', name: 'idle' });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const after = registry.entity({ org: 'ent', name: 'idle' });
    expect(after).not.toBe(before);
    expect(before.lifecycle).toBe('passivated');
    expect((await http(`${app.url}/idle/k`, { token })).text).toBe('kept');
  });

  it('never serves an expired value, and the process-wide scheduler journals Expired', async () => {
    await http(`${app.url}/exp/k/1`, { method: 'POST', token, body: Buffer.from('brief') });
    expect((await http(`${app.url}/exp/k`, { token })).text).toBe('brief');
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect((await http(`${app.url}/exp/k`, { token })).status).toBe(404);
    expect((await http(`${app.url}/get/exp/k`, { token })).json().success).toBe(false);
    const journal = app.app.get(Journal);
    const types: string[] = [];
    for await (const { event } of journal.replay({ org: 'ent', name: 'exp' })) types.push(event.type);
    expect(types).toEqual(['Created', 'Set', 'Expired']);
  });
});
