// A stand-in for TrackerService's Segment-compatible /v1 API, to check the SDK scripts themselves (self-test.js):
// it answers as the service should (Basic-auth or body write key, 401 for an unknown one, CORS for browsers,
// 200 {"success":true}) and keeps every event it took, by messageId. Not a model of the service's storage.
'use strict';
const http = require('node:http');
const zlib = require('node:zlib');

const paths = new Set(['batch', 'track', 'identify', 'page', 'screen', 'group', 'alias', 'b', 't', 'i', 'p', 's', 'g', 'a']);

function start(writeKeys) {
  const events = new Map();
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers });
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'authorization, content-type', 'Access-Control-Max-Age': '600' });
        res.end();
        return;
      }
      const match = /^\/v1\/(\w+)$/.exec(req.url);
      if (req.method !== 'POST' || !match || !paths.has(match[1])) {
        res.writeHead(404).end();
        return;
      }
      let body;
      try {
        const raw = Buffer.concat(chunks);
        body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8'));
      } catch {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"bad body"}');
        return;
      }
      const auth = /^Basic (.+)$/.exec(req.headers.authorization || '');
      const key = auth ? Buffer.from(auth[1], 'base64').toString('utf8').replace(/:.*$/, '') : body.writeKey;
      if (!writeKeys.includes(key)) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"unknown write key"}');
        return;
      }
      for (const event of Array.isArray(body.batch) ? body.batch : [body]) {
        events.set(event.messageId, { ...event, receivedAt: new Date().toISOString(), sentAt: event.sentAt ?? body.sentAt });
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":true}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, port: server.address().port, events, requests,
    close: () => new Promise((r) => server.close(r)),
  })));
}

module.exports = { start };
