// A real browser (headless Debian chromium through playwright-core) on a page of one origin, sending with the real
// @segment/analytics-next bundle to the API on another origin; prints one JSON line with what happened.
//
//   node browser-sdk.js --api http://127.0.0.1:8080 --write-key KEY --run RUN [--count 5]
//                       [--chromium /usr/bin/chromium] [--delivery standard|batching]
//
// Calls, in the order a visitor makes them: COUNT page, track and screen calls while anonymous (all delivered before
// identify: the SDK fills a missing userId at send time), COUNT identify of one user `${run}-buser` (traits i and
// email; a *different* userId would make the SDK start a new anonymousId), then COUNT group (`${run}-borg-${i}`) and
// COUNT alias (previousId `${run}-bprev-${i}`); messageId `${run}-${type}-${i}`. The SDK sets userId on every call
// after identify to the current user, also on alias (whatever its first argument).
//
// Nothing may leave the machine: chromium resolves no host but 127.0.0.1, and any request to another host is
// reported in `external`. No page.route: with a route installed Playwright answers CORS preflights itself, which
// would hide the API's own CORS answers.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { chromium } = require('playwright-core');

const { values: args } = parseArgs({
  options: {
    api: { type: 'string' },
    'write-key': { type: 'string' },
    run: { type: 'string' },
    count: { type: 'string', default: '5' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH || '/usr/bin/chromium' },
    delivery: { type: 'string', default: 'standard' },
  },
});
if (!args.api || !args['write-key'] || !args.run) {
  console.error('usage: node browser-sdk.js --api URL --write-key KEY --run RUN [--count N] [--chromium PATH] [--delivery standard|batching]');
  process.exit(2);
}

const bundle = path.dirname(require.resolve('@segment/analytics-next/dist/umd/index.js'));
const summary = {
  sdk: '@segment/analytics-next',
  version: require('@segment/analytics-next/package.json').version,
  run: args.run,
  delivery: args.delivery,
  calls: {},
  failedDeliveries: [],
  undelivered: [], // messageIds of calls whose event was in no request answered 2xx
  responses: {}, // "POST /v1/p 200" -> count, for requests to the API
  consoleErrors: [],
  pageErrors: [],
  requestsFailed: [],
  external: [],
};

// The page's origin: the page, and the analytics-next bundle (and any chunk it would lazy-load) from node_modules.
const site = http.createServer((req, res) => {
  const file = /^\/(?:ajs|analytics-next\/bundles)\/([\w.-]+\.js)$/.exec(req.url);
  if (req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>SDK test</title><script src="/ajs/index.js"></script><h1>SDK test</h1>');
  } else if (req.url === '/favicon.ico') {
    res.writeHead(204).end();
  } else if (file && fs.existsSync(path.join(bundle, file[1]))) {
    res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(fs.readFileSync(path.join(bundle, file[1])));
  } else {
    res.writeHead(404).end();
  }
});

async function visit(page, setup) {
  return page.evaluate(async ({ writeKey, apiHost, protocol, run, count, delivery }) => {
    const segment = { apiKey: writeKey, apiHost, protocol };
    if (delivery === 'batching') segment.deliveryStrategy = { strategy: 'batching', config: { size: 10, timeout: 200 } };
    const [analytics] = await window.AnalyticsNext.AnalyticsBrowser.load(
      // Inline settings: nothing is fetched from Segment's CDN; cdnURL points any chunk loading at this origin.
      { writeKey, cdnURL: location.origin, cdnSettings: { integrations: { 'Segment.io': segment } } });
    const calls = [];
    const call = (type, promise) => calls.push(promise.then((ctx) => ({ type, messageId: ctx.event.messageId, failed: ctx.failedDelivery() ? String(ctx.failedDelivery().reason) : null })));
    for (let i = 0; i < count; i++) {
      call('page', analytics.page('Docs', `Browser Page ${i}`, { i, run }, { messageId: `${run}-page-${i}` }));
      call('track', analytics.track('Browser Clicked', { i, run, button: 'buy' }, { messageId: `${run}-track-${i}` }));
      call('screen', analytics.screen('Onboarding', `Browser Screen ${i}`, { i, run }, { messageId: `${run}-screen-${i}` }));
    }
    await Promise.all(calls);
    for (let i = 0; i < count; i++) {
      call('identify', analytics.identify(`${run}-buser`, { i, email: `${run}-buser-${i}@example.test` }, { messageId: `${run}-identify-${i}` }));
      await calls[calls.length - 1];
    }
    for (let i = 0; i < count; i++) {
      call('group', analytics.group(`${run}-borg-${i}`, { i, name: `Org ${i}` }, { messageId: `${run}-group-${i}` }));
      call('alias', analytics.alias(`${run}-bnew-${i}`, `${run}-bprev-${i}`, { messageId: `${run}-alias-${i}` }));
    }
    const results = await Promise.all(calls);
    return { results, anonymousId: analytics.user().anonymousId(), userId: analytics.user().id() };
  }, setup);
}

async function main() {
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${site.address().port}`;
  const api = new URL(args.api);
  summary.origin = origin;
  const browser = await chromium.launch({
    executablePath: args.chromium,
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    timeout: 30000,
  });
  try {
    const page = await browser.newPage();
    page.on('request', (r) => { if (new URL(r.url()).hostname !== '127.0.0.1') summary.external.push(r.url()); });
    page.on('console', (m) => { if (m.type() === 'error') summary.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => summary.pageErrors.push(String(e)));
    page.on('requestfailed', (r) => summary.requestsFailed.push(`${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`));
    // The messageIds of the events in every API request answered 2xx. Calls with the batching strategy resolve once
    // queued, not sent, so the browser stays open until each call's event was in such a request (or time is up).
    const delivered = new Set();
    page.on('requestfinished', async (r) => {
      const response = await r.response();
      if (new URL(r.url()).origin !== api.origin || r.method() !== 'POST' || !response || response.status() >= 300) return;
      try {
        const body = JSON.parse(r.postData() || '{}');
        for (const e of Array.isArray(body.batch) ? body.batch : [body]) delivered.add(e.messageId);
      } catch {
        // not JSON: counted as not delivered
      }
    });
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (url.origin !== api.origin) return;
      const key = `${r.request().method()} ${url.pathname} ${r.status()}`;
      summary.responses[key] = (summary.responses[key] || 0) + 1;
    });
    await page.goto(`${origin}/`);
    const apiHost = `${api.host}${api.pathname.replace(/\/$/, '')}/v1`;
    const result = await visit(page, { writeKey: args['write-key'], apiHost, protocol: api.protocol.replace(':', ''), run: args.run, count: Number(args.count), delivery: args.delivery });
    const sent = result.results.filter((r) => !r.failed).map((r) => r.messageId); // a failed call is reported as such
    for (const deadline = Date.now() + 15000; sent.some((id) => !delivered.has(id)) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    summary.undelivered = sent.filter((id) => !delivered.has(id));
    for (const r of result.results) {
      summary.calls[r.type] = (summary.calls[r.type] || 0) + 1;
      if (r.failed) summary.failedDeliveries.push(`${r.messageId}: ${r.failed}`);
    }
    summary.anonymousId = result.anonymousId;
    summary.userId = result.userId;
    summary.userAgent = await page.evaluate(() => navigator.userAgent);
  } finally {
    await browser.close();
    site.close();
  }
}

// Bounded: whatever hangs, the script prints what it has and exits well within the test's time.
const watchdog = setTimeout(() => {
  summary.fatal = 'browser-sdk.js timed out after 60 s';
  console.log(JSON.stringify(summary));
  process.exit(1);
}, 60000);
main().then(() => {
  clearTimeout(watchdog);
  console.log(JSON.stringify(summary));
}, (err) => {
  clearTimeout(watchdog);
  summary.fatal = String((err && err.stack) || err);
  console.log(JSON.stringify(summary));
  process.exit(1);
});
