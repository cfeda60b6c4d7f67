import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Numbers sent to the IronCache API are stored as the exact text sent (never
 * through a JS number, exact only to 2^53), and increments work on 64-bit signed integers.
 * Bodies are written as raw JSON text: JSON.stringify could not even express these numbers.
 */
describe('IronCache: exact integers', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'exact' });
  const send = (path: string, method: string, json?: string) =>
    http(`${app.url}/1/projects/exact/caches/nums${path}`, {
      method,
      body: json,
      headers: { authorization: `OAuth ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    });
  const put = (key: string, json: string) => send(`/items/${key}`, 'PUT', json);
  const valueOf = async (key: string) => (await send(`/items/${key}`, 'GET')).json().value as string;
  const increment = (key: string, amount: string) => send(`/items/${key}/increment`, 'POST', `{"amount": ${amount}}`);

  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  it.each([
    ['9007199254740993', '9007199254740993'], // 2^53 + 1: JSON.parse reads 9007199254740992
    ['12345678901234567890123', '12345678901234567890123'], // JSON.parse reads 1.2345678901234568e+22
    ['-9223372036854775808', '-9223372036854775808'],
    ['1.50', '1.50'],
    ['42', '42'],
  ])('PUT {"value": %s} reads back "%s"', async (sent, readBack) => {
    const key = `v${sent.replace(/\W/g, '_')}`;
    const stored = await put(key, `{"value": ${sent}}`);
    expect(stored.status).toBe(200);
    expect(stored.json()).toEqual({ msg: 'Stored.' });
    expect(await valueOf(key)).toBe(readBack);
  });

  it('the exact text crosses families: a native read gives the same bytes', async () => {
    await put('cross', '{"value": 9007199254740993}');
    expect((await http(`${app.url}/nums/cross`, { token })).text).toBe('9007199254740993');
  });

  it('increments beyond 2^53 exactly, answering the result as a JSON number with every digit', async () => {
    await put('big', '{"value": 9007199254740993}');
    const inc = await increment('big', '2');
    expect(inc.status).toBe(200);
    expect(inc.headers.get('content-type')).toMatch(/^application\/json/);
    expect(inc.text).toBe('{"msg":"Added","value":9007199254740995}');
    expect(await valueOf('big')).toBe('9007199254740995');
  });

  it('an amount of 2^53 and more is accepted (exact), and 1e3 is the integer 1000', async () => {
    expect((await increment('amounts', '9007199254740992')).text).toBe('{"msg":"Added","value":9007199254740992}');
    expect((await increment('amounts', '1e3')).text).toBe('{"msg":"Added","value":9007199254741992}');
  });

  it('reaches the 64-bit maximum; one more is 400 naming the overflow, and nothing changes', async () => {
    await put('edge', '{"value": "9223372036854775806"}');
    expect((await increment('edge', '1')).text).toBe('{"msg":"Added","value":9223372036854775807}');
    const over = await increment('edge', '1');
    expect(over.status).toBe(400);
    expect(over.json().msg).toMatch(/overflow a 64-bit signed integer/);
    expect(await valueOf('edge')).toBe('9223372036854775807');
  });

  it('a stored integer beyond 64 bits is 400 "out of range", not "not a number"', async () => {
    await put('huge', '{"value": 12345678901234567890123}');
    const r = await increment('huge', '1');
    expect(r.status).toBe(400);
    expect(r.json().msg).toMatch(/outside the 64-bit signed range/);
    expect(await valueOf('huge')).toBe('12345678901234567890123');
  });

  it.each([
    ['9223372036854775808', /outside the 64-bit signed integer range/],
    ['-9223372036854775809', /outside the 64-bit signed integer range/],
    ['1.5', /must be an integer \(1\.5 has a fraction\)/],
    ['"10"', /must be a number/],
  ])('an amount of %s is 400 with a message naming the problem', async (amount, message) => {
    const r = await increment('bad-amount', amount);
    expect(r.status).toBe(400);
    expect(r.json().msg).toMatch(message);
    expect((await send('/items/bad-amount', 'GET')).status).toBe(404); // nothing was stored
  });

  it('a non-integer stored value is 400 "not an integer"', async () => {
    await put('frac', '{"value": 1.50}');
    const r = await increment('frac', '1');
    expect(r.status).toBe(400);
    expect(r.json().msg).toMatch(/not an integer/);
  });

  it('expires_in and cas still read as whole numbers; a fraction or a duplicated key is 400', async () => {
    expect((await put('ttl', '{"value": "x", "expires_in": 60}')).status).toBe(200);
    const fraction = await put('ttl', '{"value": "x", "expires_in": 1.5}');
    expect(fraction.status).toBe(400);
    expect(fraction.json().msg).toMatch(/expires_in: must be a whole number/);
    const cas = (await send('/items/ttl', 'GET')).json().cas as number;
    expect((await put('ttl', `{"value": "y", "cas": ${cas}}`)).status).toBe(200);
    expect((await put('ttl', '{"value": "z", "value": "w"}')).status).toBe(400);
    expect(await valueOf('ttl')).toBe('y');
  });
});
