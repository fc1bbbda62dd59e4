// Checks the SDK scripts themselves against fake-tracker.js (no TrackerService needed): `npm run self-test`.
// A failure here is the harness's; a failure of the C# Sdk tests with this passing is the service's.
'use strict';
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const fake = require('./fake-tracker');

const runScript = (script, args) => new Promise((resolve) => {
  execFile(process.execPath, [script, ...args], { cwd: __dirname, timeout: 120000 }, (err, stdout, stderr) => {
    const last = stdout.trim().split('\n').pop();
    try {
      resolve(JSON.parse(last));
    } catch {
      resolve({ fatal: `no summary (${err && err.message}): ${stdout} ${stderr}` });
    }
  });
});

let failures = 0;
const check = (what, ok, detail) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok ? '' : `: ${JSON.stringify(detail)}`}`);
  if (!ok) failures++;
};

async function main() {
  const server = await fake.start(['good-key']);
  try {
    const node = await runScript('node-sdk.js', ['--host', server.url, '--write-key', 'good-key', '--run', 'st-node', '--count', '1000']);
    check('analytics-node: 6,000 calls delivered', node.delivered === 6000 && node.failed === 0, node);
    check('analytics-node: all stored by messageId', [...server.events.keys()].filter((k) => k.startsWith('st-node-')).length === 6000, server.events.size);
    check('analytics-node: POST /v1/batch with Basic auth', server.requests.every((r) => r.url === '/v1/batch' && r.headers.authorization === `Basic ${Buffer.from('good-key:').toString('base64')}`), server.requests[0]);

    const bad = await runScript('node-sdk.js', ['--host', server.url, '--write-key', 'unknown', '--run', 'st-bad', '--count', '10']);
    check('analytics-node: unknown key fails every call with 401', bad.failed === 60 && bad.errors['[401] Unauthorized'] === 60 && bad.statuses['401'] === 1, bad);

    const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
    if (!fs.existsSync(chromium)) {
      console.log(`skip browser: no chromium at ${chromium}`);
      return;
    }
    for (const delivery of ['standard', 'batching']) {
      const run = `st-browser-${delivery}`;
      const b = await runScript('browser-sdk.js', ['--api', server.url, '--write-key', 'good-key', '--run', run, '--count', '5', '--delivery', delivery]);
      const stored = [...server.events.values()].filter((e) => e.messageId.startsWith(`${run}-`));
      check(`analytics-next (${delivery}): 30 calls stored, no errors`, stored.length === 30 && !b.fatal && b.failedDeliveries.length === 0
        && b.consoleErrors.length === 0 && b.requestsFailed.length === 0 && b.external.length === 0, b);
    }
  } finally {
    await server.close();
  }
}

main().then(() => {
  console.log(failures === 0 ? 'self-test passed' : `self-test: ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
});
