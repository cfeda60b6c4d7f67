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
    expect(disagreements).toEqual([]);
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
});
