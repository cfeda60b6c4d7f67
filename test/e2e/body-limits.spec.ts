import { RouteCatalog } from '../../src/api/contract/route-catalog';
import { bodyLimitsFor } from '../../src/api/edge/body-limits';
import { loadConfig } from '../../src/config/config';
import { TestApp, startTestApp } from '../support/test-app';

/** Body limits come from the route contracts (`body.size`): the routes that carry values, and only they, take more than a control body. */
describe('body limits by route contract', () => {
  let app: TestApp;
  const config = loadConfig({ DATA_DIR: '/tmp/unused', JWT_SECRET: 'test-secret-of-at-least-32-bytes!!' });
  const { edge, maxValueBytes } = config;
  const control = { json: edge.maxControlBodyBytes, raw: edge.maxControlBodyBytes };

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.dispose());

  it('gives the value and batch routes their limits and every other route control limits', () => {
    const larger: Record<string, unknown> = {};
    for (const route of app.app.get(RouteCatalog).routes) {
      const limits = bodyLimitsFor(route.contract, edge, maxValueBytes);
      if (limits.json !== control.json || limits.raw !== control.raw) larger[`${route.method} ${route.url}`] = limits;
    }
    const batch = { json: edge.maxBatchBodyBytes, raw: edge.maxControlBodyBytes };
    expect(larger).toEqual({
      'POST /:cacheName/:key': { json: edge.maxControlBodyBytes, raw: maxValueBytes },
      'POST /:cacheName/:key/:ttlSeconds': { json: edge.maxControlBodyBytes, raw: maxValueBytes },
      'PUT /cache/:cacheName': { json: edge.maxControlBodyBytes, raw: maxValueBytes },
      'POST /set': { json: edge.maxValueJsonBytes, raw: edge.maxControlBodyBytes },
      // A value as a JSON string: its bytes as sent plus room for the other fields.
      'PUT /1/projects/:projectId/caches/:cacheName/items/:key': { json: maxValueBytes + edge.maxControlBodyBytes, raw: maxValueBytes + edge.maxControlBodyBytes },
      'POST /batch': batch,
      'DELETE /batch': batch,
      'POST /batch/get': batch,
      // The Upstash-style Redis REST API: a command with a value (JSON or raw), and pipelines.
      ...Object.fromEntries(
        ['POST /redis', 'POST /redis/*', 'PUT /redis/*', 'POST /redis/db/:db', 'POST /redis/db/:db/*', 'PUT /redis/db/:db/*'].map((route) => [route, { json: maxValueBytes + edge.maxControlBodyBytes, raw: maxValueBytes + edge.maxControlBodyBytes }]),
      ),
      ...Object.fromEntries(
        ['POST /redis/pipeline', 'POST /redis/multi-exec', 'POST /redis/db/:db/pipeline', 'POST /redis/db/:db/multi-exec'].map((route) => [route, { json: edge.maxPipelineBytes, raw: edge.maxPipelineBytes }]),
      ),
    });
  });
});
