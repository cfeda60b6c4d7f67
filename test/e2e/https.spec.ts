import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { tempDir } from '../support/temp-dir';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI for this test. */
function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

function httpsRequest(url: string, options: { method?: string; ca: Buffer; headers?: Record<string, string>; body?: Buffer }): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', ca: options.ca, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('TLS: TLS_CERT and TLS_KEY make the service speak HTTPS', () => {
  const certs = tempDir('cachelog-tls-');
  let app: TestApp;
  let ca: Buffer;
  let url: string;
  const token = tokenFor({ org: 'tls' });

  beforeAll(async () => {
    const { cert, key } = selfSignedCertificate(certs.path);
    ca = readFileSync(cert);
    app = await startTestApp({ env: { TLS_CERT: cert, TLS_KEY: key } });
    url = app.url.replace(/^http:/, 'https:');
  });
  afterAll(async () => {
    await app.dispose();
    certs.cleanup();
  });

  it('serves the native and Momento APIs over HTTPS, verified against the self-signed certificate', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const set = await httpsRequest(`${url}/tlscache/k`, { method: 'POST', ca, headers: { ...auth, 'content-type': 'application/octet-stream' }, body: Buffer.from('secret') });
    expect(set.status).toBe(201);
    const got = await httpsRequest(`${url}/cache/tlscache?key=k`, { ca, headers: { authorization: token } });
    expect(got.status).toBe(200);
    expect(got.body.toString()).toBe('secret');
  });

  it('a client that does not trust the certificate is refused by TLS itself', async () => {
    await expect(httpsRequest(`${url}/cacheName/list`, { ca: Buffer.from('') })).rejects.toThrow();
  });

  it('plain HTTP on the TLS port gets no API answer', async () => {
    const plain = await http(`${app.url}/cacheName/list`, { token }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
  });
});
