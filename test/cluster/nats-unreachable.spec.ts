import { freePort } from '../support/free-port';
import { NatsServer, startNatsServer } from '../support/nats-server';
import { TestApp, startTestApp, tokenFor } from '../support/test-app';
import { tempDir } from '../support/temp-dir';

/** One cachelog node (in process) on one real nats-server that goes away and comes back. */
const auth = { authorization: `Bearer ${tokenFor({ org: 'acme' })}` };
const store = tempDir('cachelog-nats-');
let spec: Parameters<typeof startNatsServer>[0];
let server: NatsServer;
let app: TestApp | undefined;

beforeAll(async () => {
  spec = { name: 'solo', port: await freePort(), storeDir: store.path };
  server = await startNatsServer(spec);
});

afterAll(async () => {
  await app?.dispose();
  await server.stop();
  store.cleanup();
});

const env = (extra: Record<string, string> = {}) => ({ JOURNAL: 'nats', NATS_URL: server.url, NATS_TIMEOUT_MS: '800', ...extra });

describe('a node when NATS is unreachable', () => {
  it('answers 503 JOURNAL_UNAVAILABLE on writes, keeps serving reads from memory, and writes again once NATS is back', async () => {
    app = await startTestApp({ env: env({ NATS_STREAM: 'away' }) });
    const write = (key: string, value: string) => fetch(`${app!.url}/c/${key}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: value });
    expect((await write('k', 'before')).status).toBe(201);

    await server.kill();
    const refused = await write('k', 'during');
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
    const read = await fetch(`${app.url}/c/k`, { headers: auth });
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('before');

    server = await startNatsServer(spec); // same store, same port: the client reconnects by itself
    const until = Date.now() + 20_000;
    let status = 0;
    while (status !== 201 && Date.now() < until) {
      status = (await write('k', 'after')).status;
      if (status !== 201) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(201);
    expect(await (await fetch(`${app.url}/c/k`, { headers: auth })).text()).toBe('after');
    await app.dispose();
    app = undefined;
  });

  it('refuses to start when MAX_VALUE_BYTES does not fit one NATS message, and says what to set', async () => {
    await expect(startTestApp({ env: env({ NATS_STREAM: 'big', MAX_VALUE_BYTES: String(4 * 1024 * 1024) }) })).rejects.toThrow(/MAX_VALUE_BYTES \(4194304\) does not fit one NATS message/);
  });

  it('refuses to start when no NATS server answers, naming where it looked', async () => {
    const nowhere = `nats://127.0.0.1:${await freePort()}`;
    await expect(startTestApp({ env: { JOURNAL: 'nats', NATS_URL: nowhere, NATS_TIMEOUT_MS: '500' } })).rejects.toThrow(/cannot reach NATS at/);
  });
});
