// A deliberately broken fence, for the test that proves the cluster's linearizability checks can
// fail: preloaded into a cachelog process (NODE_OPTIONS=--require <this file>), it strips the
// expectations (Nats-Expected-Last-Subject-Sequence, Nats-Expected-Last-Sequence) from every
// JetStream publish to a cache's event subject (`<stream>.ev.<org>.<cache>`), so appends to one
// cache from several nodes are no longer refused when another node wrote first. KV buckets
// (snapshots, marks, tasks) keep theirs. Loaded by test/cluster/linearizable-register.spec.ts
// only; src/ is unchanged.
'use strict';
const { JetStreamClientImpl } = require('@nats-io/jetstream/internal');

const EXPECT_HEADERS = ['Nats-Expected-Last-Subject-Sequence', 'Nats-Expected-Last-Sequence'];
const publish = JetStreamClientImpl.prototype.publish;
JetStreamClientImpl.prototype.publish = function publishUnfenced(subject, data, options) {
  if (/\.ev\./.test(subject) && options !== undefined) {
    options = { ...options };
    delete options.expect;
    if (options.headers !== undefined) for (const name of EXPECT_HEADERS) if (options.headers.has(name)) options.headers.delete(name);
  }
  return publish.call(this, subject, data, options);
};
