import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** The URL and body shapes, and bad input: Upstash's error shape, and nothing changed. */
describe('Upstash-style Redis REST API: shapes and bad input', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'shapes' });
  beforeAll(async () => {
    app = await startTestApp({ env: { UPSTASH_MAX_PIPELINE_COMMANDS: '5', UPSTASH_MAX_PIPELINE_BYTES: '2048' } });
  });
  afterAll(() => app.dispose());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => http(`${app.url}${path}`, { method: 'POST', token, body, headers });
  const dbsize = async () => (await post('/redis', ['DBSIZE'])).json().result;

  it('the path form: URL-decoded segments, query options, the POST body as the last argument, ?_token=', async () => {
    expect((await http(`${app.url}/redis/set/a%2Fb/hello%20world?EX=100`, { token })).json()).toEqual({ result: 'OK' });
    expect((await http(`${app.url}/redis/get/a%2Fb?_token=${token}`)).json()).toEqual({ result: 'hello world' });
    expect((await http(`${app.url}/redis/ttl/a%2Fb`, { token })).json().result).toBeGreaterThan(98);
    const bytes = Buffer.from([0, 1, 2, 255, 13, 10]);
    expect((await http(`${app.url}/redis/set/bin?EX=100`, { method: 'POST', token, body: bytes })).json()).toEqual({ result: 'OK' });
    const back = await http(`${app.url}/redis/get/bin`, { token, headers: { 'upstash-encoding': 'base64' } });
    expect(Buffer.from(back.json().result, 'base64')).toEqual(bytes);
    // A JSON content type does not change what a path command's body is: its bytes.
    expect((await http(`${app.url}/redis/set/json`, { method: 'POST', token, body: '{"a": 1}', headers: { 'content-type': 'application/json' } })).json()).toEqual({ result: 'OK' });
    expect((await http(`${app.url}/redis/get/json`, { token })).json()).toEqual({ result: '{"a": 1}' });
    expect((await http(`${app.url}/redis/db/other%20cache/set/k/v`, { token })).json()).toEqual({ result: 'OK' });
    expect((await http(`${app.url}/other%20cache/k`, { token })).text).toBe('v');
  });

  it('the JSON forms take a form-encoded body too (curl -d), and numbers as arguments', async () => {
    const curl = await http(`${app.url}/redis`, { method: 'POST', token, body: '["SETEX","n",13,"v"]', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(curl.json()).toEqual({ result: 'OK' });
    expect((await post('/redis', ['INCRBYFLOAT', 'f', 1.5])).json()).toEqual({ result: '1.5' });
    expect((await post('/redis/pipeline', [['SET', 'p', 1], ['INCR', 'p'], ['INCR', 'nope', 'x']])).json()).toEqual([
      { result: 'OK' },
      { result: 2 },
      { error: "ERR wrong number of arguments for 'incr' command" },
    ]);
  });

  it('Upstash-Response-Format: resp2 answers the raw RESP bytes', async () => {
    await post('/redis', ['SET', 'r', 'bar']);
    const one = await http(`${app.url}/redis/get/r`, { token, headers: { 'upstash-response-format': 'resp2' } });
    expect(one.headers.get('content-type')).toMatch(/application\/octet-stream/);
    expect(one.text).toBe('$3\r\nbar\r\n');
    const many = await post('/redis/pipeline', [['GET', 'r'], ['INCR', 'r']], { 'upstash-response-format': 'resp2' });
    expect(many.text).toBe('$3\r\nbar\r\n-ERR value is not an integer or out of range\r\n');
    expect((await http(`${app.url}/redis/get/r`, { token, headers: { 'upstash-response-format': 'xml' } })).status).toBe(400);
    expect((await http(`${app.url}/redis/get/r`, { token, headers: { 'upstash-response-format': 'resp2', 'upstash-encoding': 'base64' } })).status).toBe(400);
  });

  it.each([
    ['a JSON object', '/redis', { command: 'SET' }],
    ['a string', '/redis', 'SET k v'],
    ['an empty array', '/redis', []],
    ['a nested array', '/redis', ['SET', ['k'], 'v']],
    ['an object argument', '/redis', ['SET', 'k', { v: 1 }]],
    ['a boolean argument', '/redis', ['SET', 'k', true]],
    ['null', '/redis', ['SET', 'k', null]],
    ['a number beyond 2^53', '/redis', ['SET', 'k', 18014398509481985]],
    ['invalid JSON', '/redis', '["SET", "k"'],
    ['a pipeline that is not an array of arrays', '/redis/pipeline', ['SET', 'k', 'v']],
    ['a pipeline with a nested array', '/redis/pipeline', [['SET', 'k', 'v'], ['SET', ['k2'], 'v']]],
    ['an empty pipeline', '/redis/pipeline', []],
    ['a pipeline over UPSTASH_MAX_PIPELINE_COMMANDS', '/redis/pipeline', Array.from({ length: 6 }, (_, i) => ['SET', `k${i}`, 'v'])],
    ['a transaction over UPSTASH_MAX_PIPELINE_COMMANDS', '/redis/multi-exec', Array.from({ length: 6 }, (_, i) => ['SET', `k${i}`, 'v'])],
    ['a transaction with an unknown command', '/redis/multi-exec', [['SET', 'k', 'v'], ['NOSUCH']]],
    ['a transaction with a session command', '/redis/multi-exec', [['SET', 'k', 'v'], ['SELECT', '2']]],
  ])('%s: 400 {"error": "..."}, nothing written', async (_what, path, body) => {
    const before = await dbsize();
    const answer = await post(path, typeof body === 'string' ? body : body, typeof body === 'string' ? { 'content-type': 'application/json' } : {});
    expect(answer.status).toBe(400);
    expect(Object.keys(answer.json())).toEqual(['error']);
    expect(answer.json().error).toMatch(/^(ERR|EXECABORT) /);
    expect(await dbsize()).toBe(before);
  });

  it('a pipeline body over UPSTASH_MAX_PIPELINE_BYTES is 413 before it is read; a bad header or encoding is 400', async () => {
    const big = await post('/redis/pipeline', [['SET', 'k', 'x'.repeat(4096)]]);
    expect(big.status).toBe(413);
    expect(big.json().error).toMatch(/^ERR /);
    expect((await http(`${app.url}/redis/get/k`, { token, headers: { 'upstash-encoding': 'base32' } })).status).toBe(400);
    expect((await http(`${app.url}/redis/get/a%ZZ`, { token })).status).toBe(400);
  });

  it('session commands answer an error over HTTP; verbs other than GET, POST, PUT are 405', async () => {
    expect((await post('/redis', ['SELECT', '1'])).json().error).toMatch(/^ERR Command is not available over HTTP: 'select'/);
    expect((await post('/redis/pipeline', [['PING'], ['MULTI']])).json()).toEqual([{ result: 'PONG' }, { error: expect.stringMatching(/not available over HTTP: 'multi'/) }]);
    const deleted = await http(`${app.url}/redis/del/k`, { method: 'DELETE', token });
    expect(deleted.status).toBe(405);
    expect(deleted.json().error).toMatch(/^ERR /);
  });
});
