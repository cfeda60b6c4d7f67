import { SseClient } from '../support/sse';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Red-team pass after the hardening pass (HEAD on every route): `HEAD /cacheName/{c}/events/stream` opened
 * a stream whose headers Node never sends for a HEAD, so the request got no answer and held one
 * of the org's SSE_MAX_CLIENTS_PER_ORG slots until the idle timeout. A HEAD is now answered with
 * the stream's headers and holds nothing.
 */
describe('red team: HEAD on the event stream', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'header' });
  beforeAll(async () => {
    app = await startTestApp({ env: { SSE_MAX_CLIENTS_PER_ORG: '2' } });
    expect((await http(`${app.url}/s/k`, { method: 'POST', token, body: Buffer.from('v') })).status).toBe(201);
  });
  afterAll(() => app.dispose());

  it('is answered with the headers and takes no stream slot', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await http(`${app.url}/cacheName/s/events/stream`, { method: 'HEAD', token });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toContain('text/event-stream');
    }
    const client = await SseClient.open(`${app.url}/cacheName/s/events/stream`, { authorization: `Bearer ${token}` });
    try {
      expect(client.status).toBe(200);
      expect((await client.next())?.data).toContain('"seq":1');
    } finally {
      client.close();
    }
  });
});
