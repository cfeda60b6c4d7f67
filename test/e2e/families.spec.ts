import { RouteCatalog } from '../../src/api/contract/route-catalog';
import { DESCRIBED_ROUTES } from '../../src/api/openapi/described-routes';
import { openApiPath } from '../../src/api/openapi/openapi-document';
import { FAMILIES, familyOf } from '../../src/families';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * A request is served by the family its path belongs to (familyOf: token, JSON parser, error
 * body, ETags), and documented by the family its route contract names: the two must agree.
 */
describe('API families at run time', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'families' });

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.dispose());

  it('every route with a contract belongs, by its path, to the family its contract names', () => {
    const disagreements: string[] = [];
    for (const route of app.app.get(RouteCatalog).routes) {
      const contract = route.contract ?? DESCRIBED_ROUTES[`${route.method} ${openApiPath(route.url)}`];
      if (contract === undefined) continue;
      const path = route.url.replace(/:[A-Za-z0-9_]+/g, 'x');
      if (familyOf(path) !== FAMILIES[contract.family]) disagreements.push(`${route.method} ${route.url}: contract ${contract.family}, path ${familyOf(path).id}`);
    }
    expect(disagreements).toStrictEqual([]);
  });

  it('a native cache named "1" has its JSON bodies read by the native parser, not IronCache\'s', async () => {
    // IronCache's parser refuses a key given twice with different values (400 INVALID_JSON); it
    // used to read every `/1/...` body. JSON.parse takes it, and the native binary write then
    // refuses a JSON body as it refuses any.
    const response = await http(`${app.url}/1/k`, { method: 'POST', token, body: '{"a":1,"a":2}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(415);
    expect(response.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('IronCache paths still read bodies with IronCache\'s parser', async () => {
    const response = await http(`${app.url}/1/projects/families/caches/c/items/k`, {
      method: 'PUT',
      body: '{"value":"v","value":"w"}',
      headers: { 'content-type': 'application/json', authorization: `OAuth ${token}` },
    });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({ msg: 'the request body is not valid JSON' });
  });

  describe('a path spelled with percent-escapes is served as the family it decodes to', () => {
    it("IronCache: /%31/projects/<another org>/... meets the project check (403 {\"msg\"}), as /1/projects/... does", async () => {
      for (const prefix of ['/1/projects', '/%31/projects', '/1/%70rojects', '/%31/%70%72ojects']) {
        const response = await http(`${app.url}${prefix}/someone-else/caches/c/items/k`, { headers: { authorization: `OAuth ${token}` } });
        expect([prefix, response.status]).toEqual([prefix, 403]);
        expect(response.json()).toEqual({ msg: expect.any(String) });
      }
    });

    it('IronCache: the OAuth token of /%31/projects is read where IronCache reads it (?oauth=), and its writes keep the project wall', async () => {
      const put = await http(`${app.url}/%31/projects/someone-else/caches/c/items/k?oauth=${token}`, { method: 'PUT', body: { value: 'v' } });
      expect(put.status).toBe(403);
      const own = await http(`${app.url}/%31/projects/families/caches/c/items/k?oauth=${token}`, { method: 'PUT', body: { value: 'v' } });
      expect(own.status).toBe(200);
      expect((await http(`${app.url}/1/projects/families/caches/c/items/k?oauth=${token}`)).json()).toMatchObject({ value: 'v' });
    });

    it('Momento: /%63ache/... answers in Momento\'s form, as /cache/... does', async () => {
      for (const prefix of ['/cache', '/%63ache', '/c%61che']) {
        const response = await http(`${app.url}${prefix}/nope-${prefix.length}?key=k`, { headers: { authorization: token } });
        expect([prefix, response.status]).toEqual([prefix, 404]);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      }
    });

    it('an unknown path under an escaped prefix is answered in that family\'s error form', async () => {
      const response = await http(`${app.url}/%31/projects/families/nothing-here`, { headers: { authorization: `OAuth ${token}` } });
      expect(response.status).toBe(404);
      expect(response.json()).toEqual({ msg: expect.any(String) });
    });
  });
});
