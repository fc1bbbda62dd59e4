// Sends COUNT calls of every type (track, identify, page, screen, group, alias) through the real
// @segment/analytics-node SDK to HOST, then prints one JSON line: what was called, delivered and failed.
//
//   node node-sdk.js --host http://127.0.0.1:8080 --write-key KEY --run RUN [--count 1000] [--flush-at 100]
//                    [--clock-skew-ms 0]
//
// Every value is derived from RUN and the call's index i, so the test can check each stored row (SdkCalls.cs
// spells the same scheme): messageId `${run}-${type}-${i}`, userId `${run}-user-${i}`, anonymousId `${run}-anon-${i}`.
// --clock-skew-ms makes the whole process's clock (and so the SDK's timestamp and sentAt) run that far ahead.
'use strict';
const { parseArgs } = require('node:util');

const { values: args } = parseArgs({
  options: {
    host: { type: 'string' },
    'write-key': { type: 'string' },
    run: { type: 'string' },
    count: { type: 'string', default: '1000' },
    'flush-at': { type: 'string', default: '100' },
    'clock-skew-ms': { type: 'string', default: '0' },
  },
});
if (!args.host || !args['write-key'] || !args.run) {
  console.error('usage: node node-sdk.js --host URL --write-key KEY --run RUN [--count N] [--flush-at N] [--clock-skew-ms MS]');
  process.exit(2);
}

const skew = Number(args['clock-skew-ms']);
if (skew !== 0) {
  const RealDate = Date;
  globalThis.Date = class SkewedDate extends RealDate {
    constructor(...a) {
      if (a.length === 0) super(RealDate.now() + skew);
      else super(...a);
    }

    static now() {
      return RealDate.now() + skew;
    }
  };
}

const { Analytics } = require('@segment/analytics-node');
const sdkVersion = require('@segment/analytics-node/package.json').version;

const run = args.run;
const count = Number(args.count);
const analytics = new Analytics({
  writeKey: args['write-key'],
  host: args.host,
  // Real-world batching: 100 small events make ~60 KB requests, well under the 500 KB request limit.
  flushAt: Number(args['flush-at']),
  flushInterval: 1000,
  // Fewer retries than the default 10 (backoff up to 60 s) keep a failing run within the test's time.
  maxRetries: 3,
});

const summary = {
  sdk: '@segment/analytics-node',
  version: sdkVersion,
  run,
  calls: {},
  delivered: 0,
  failed: 0,
  errors: {}, // error message -> how many calls failed with it (from the SDK's 'error' event)
  statuses: {}, // HTTP status -> how many requests got it (from the SDK's 'http_response' event)
  requests: 0,
  startedAt: new Date().toISOString(),
};

analytics.on('error', (e) => {
  const message = String((e && e.reason && e.reason.message) || (e && e.reason) || e);
  summary.errors[message] = (summary.errors[message] || 0) + 1;
});
analytics.on('http_response', (r) => {
  summary.requests++;
  summary.statuses[r.status] = (summary.statuses[r.status] || 0) + 1;
});

const done = (err) => {
  if (err) summary.failed++;
  else summary.delivered++;
};

const app = { name: 'TrackerService SDK test', build: run };
const calls = {
  track: (i) => analytics.track({
    messageId: `${run}-track-${i}`, userId: `${run}-user-${i}`, event: 'SDK Order Completed',
    properties: { i, run, revenue: i + 0.5, currency: 'EUR' },
    integrations: { All: true, Mixpanel: false }, context: { app },
  }, done),
  identify: (i) => analytics.identify({
    messageId: `${run}-identify-${i}`, userId: `${run}-user-${i}`, anonymousId: `${run}-anon-${i}`,
    traits: { i, email: `${run}-user-${i}@example.test`, plan: 'pro' }, context: { app },
  }, done),
  page: (i) => analytics.page({
    messageId: `${run}-page-${i}`, anonymousId: `${run}-anon-${i}`, category: 'Docs', name: `Page ${i}`,
    properties: { i, path: `/docs/${i}` }, context: { app },
  }, done),
  screen: (i) => analytics.screen({
    messageId: `${run}-screen-${i}`, userId: `${run}-user-${i}`, anonymousId: `${run}-anon-${i}`,
    category: 'Onboarding', name: `Screen ${i}`, properties: { i }, context: { app },
  }, done),
  group: (i) => analytics.group({
    messageId: `${run}-group-${i}`, userId: `${run}-user-${i}`, groupId: `${run}-org-${i}`,
    traits: { i, name: `Org ${i}` }, context: { app },
  }, done),
  alias: (i) => analytics.alias({
    messageId: `${run}-alias-${i}`, userId: `${run}-user-${i}`, previousId: `${run}-anon-${i}`, context: { app },
  }, done),
};

for (let i = 0; i < count; i++) {
  for (const [type, call] of Object.entries(calls)) {
    call(i);
    summary.calls[type] = (summary.calls[type] || 0) + 1;
  }
}
summary.calledAt = new Date().toISOString();

// closeAndFlush resolves (never rejects) once every call is delivered or has failed; past the timeout it aborts
// what is still in flight and those calls fail with "Flush timeout".
analytics.closeAndFlush({ timeout: 45000 }).then(() => {
  summary.endedAt = new Date().toISOString();
  console.log(JSON.stringify(summary));
});
