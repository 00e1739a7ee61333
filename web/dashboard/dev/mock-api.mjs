// A stand-in for `edgectl fleet dashboard` with made-up data, to look at the built page without a broker:
//   npm run build && node dev/mock-api.mjs [port] [--operator]   (then open http://127.0.0.1:PORT/)
// It follows the API shapes of the dashboard contract; it is not a test of the real server.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../src/EdgeAgent.Cli/Dashboard/wwwroot/', import.meta.url));
const port = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 8080);
const readOnly = !process.argv.includes('--operator');
const start = Date.now();
const iso = (ms) => new Date(ms).toISOString();

const info = { broker: 'mqtt://127.0.0.1:1883', prefix: 'edgeagent/v1', readOnly, version: '0.1.0', connected: true };
const ids = Array.from({ length: 12 }, (_, i) => `pump-${String(i + 1).padStart(2, '0')}`);
const statusOf = (i) => (i < 3 ? 'succeeded' : i === 3 ? 'failed' : i < 6 ? 'targeted' : 'pending');

const devices = ids.map((id, i) => {
  const s = statusOf(i);
  const state = i === 10 ? 'offline' : i === 8 ? 'stale' : 'online';
  const age = state === 'offline' ? 400 : state === 'stale' ? 9 : (i % 3) * 0.7;
  return {
    device: id, state, healthy: state === 'online' && s !== 'failed', connection: state === 'offline' ? 'offline' : 'online',
    heartbeatAgeSeconds: age, heartbeatIntervalSeconds: 2, lastHeartbeat: iso(Date.now() - age * 1000),
    agentVersion: '0.1.0', deviceType: i % 2 ? 'pump-controller-v2' : 'pump-controller-v1', groups: [i < 6 ? 'line-a' : 'line-b'],
    models: [
      s === 'succeeded' ? { name: 'vibration', activeVersion: '1.1.0', version: '1.1.0', state: 'Active', reason: null }
        : s === 'failed' ? { name: 'vibration', activeVersion: '1.0.0', version: '1.1.0', state: 'RolledBack', reason: 'probation failed: error rate 40.0% is more than 5.0 points above the previous version\'s 0.0%' }
        : s === 'targeted' ? { name: 'vibration', activeVersion: '1.1.0', version: '1.1.0', state: 'Probation', reason: null }
        : { name: 'vibration', activeVersion: '1.0.0', version: '1.0.0', state: 'Active', reason: null },
      ...(i % 4 === 0 ? [{ name: 'thermal', activeVersion: '2.0.1', version: '2.0.1', state: 'Active', reason: null }] : []),
    ],
    drift: [{ model: 'vibration', version: s === 'pending' ? '1.0.0' : '1.1.0', state: i === 7 ? 'drift' : 'ok' }],
    cpuPercent: 2 + (i % 5), rssBytes: 110_000_000 + i * 3_000_000, outboxDepth: state === 'offline' ? 42 : 0,
  };
});

const rolloutDevices = Object.fromEntries(ids.map((id, i) => {
  const s = statusOf(i);
  return [id, { status: s, wave: s === 'pending' ? null : i === 0 ? 1 : 2, reason: s === 'failed' ? 'RolledBack: probation failed' : null }];
}));
const counts = (ds) => {
  const c = { pending: 0, targeted: 0, succeeded: 0, failed: 0 };
  Object.values(ds).forEach((d) => c[d.status]++);
  return { ...c, targetedSoFar: c.targeted + c.succeeded + c.failed };
};
const timeline = Array.from({ length: 14 }, (_, k) => {
  const n = Math.min(6, Math.floor(k / 2) + 1);
  const c = { pending: 12 - n, targeted: 0, succeeded: 0, failed: 0 };
  for (let i = 0; i < n; i++) c[k < 3 ? 'targeted' : statusOf(i) === 'pending' ? 'targeted' : statusOf(i)]++;
  if (k < 8 && c.succeeded) { c.targeted += c.succeeded; c.succeeded = 0; }
  return { t: iso(start - (14 - k) * 20_000), revision: k + 1, state: 'running', currentWave: k < 2 ? 1 : 2, counts: { ...c, targetedSoFar: 12 - c.pending } };
});
const rollouts = [
  {
    id: 'vibration-1.1.0-a1b2', model: 'vibration', version: '1.1.0', group: null, targets: ids, waves: ['1', '50%', '100%'],
    waveSizes: [1, 6, 12], successThreshold: 0.8, abortThreshold: 0.25, probationSeconds: 30, waveTimeoutSeconds: 300,
    rollbackSucceeded: true, state: 'running', currentWave: 2, reason: null, devices: rolloutDevices, counts: counts(rolloutDevices),
    created: iso(start - 300_000), updated: iso(start - 20_000), revision: 14, writer: 'edgectl-4711', timeline, driver: 'edgectl-4711',
  },
  {
    id: 'thermal-2.0.1-9f00', model: 'thermal', version: '2.0.1', group: 'line-a', targets: ['pump-01', 'pump-05', 'pump-09'], waves: ['100%'],
    waveSizes: [3], successThreshold: 1, abortThreshold: 0, probationSeconds: null, waveTimeoutSeconds: 600, rollbackSucceeded: true,
    state: 'completed', currentWave: 1, reason: null,
    devices: { 'pump-01': { status: 'succeeded' }, 'pump-05': { status: 'succeeded' }, 'pump-09': { status: 'succeeded' } },
    counts: { pending: 0, targeted: 0, succeeded: 3, failed: 0, targetedSoFar: 3 },
    created: iso(start - 86_400_000), updated: iso(start - 86_000_000), revision: 5, writer: 'edgectl-12', timeline: [], driver: null,
  },
];
const alerts = [
  { id: 'drift:pump-08:vibration:3', kind: 'drift', severity: 'warning', device: 'pump-08', model: 'vibration', version: '1.1.0', at: iso(start - 60_000), message: 'drift raised on features[2]', active: true },
  { id: 'deployment:pump-04:vibration:1.1.0', kind: 'deployment', severity: 'error', device: 'pump-04', model: 'vibration', version: '1.1.0', at: iso(start - 120_000), message: "RolledBack: probation failed: error rate 40.0% is more than 5.0 points above the previous version's 0.0%", active: true },
  { id: 'drift:pump-02:vibration:1', kind: 'drift', severity: 'warning', device: 'pump-02', model: 'vibration', version: '1.0.0', at: iso(start - 3_600_000), message: 'drift cleared', active: false },
];

const edges = [-1.5, -0.9, -0.5, -0.2, 0, 0.2, 0.5, 0.9, 1.5];
const baselineProps = [0.05, 0.07, 0.1, 0.12, 0.16, 0.16, 0.12, 0.1, 0.07, 0.05];
const feats = ['features[0]', 'features[1]', 'features[2]', 'features[3]'];
const baseline = {
  samples: 5000, bins: 10,
  thresholds: { psi: { raise: 0.25, clear: 0.1 }, js: { raise: 0.2, clear: 0.1 }, ks: { raise: 0.2, clear: 0.1 } },
  features: feats.map((name, i) => ({ name, input: 'features', output: null, index: i, statistic: 'Value', edges, classes: null, proportions: baselineProps })),
  outputs: [{ name: 'label', input: null, output: 'label', index: null, statistic: 'Class', edges: null, classes: [0, 1, 2], proportions: [0.6, 0.3, 0.1] }],
};
function windowAt(k, t, drifting, version) {
  const shift = drifting ? Math.min(1, k / 20) : 0;
  const entry = (name, j) => {
    const p = j === 2 ? shift * 0.5 + 0.01 * (k % 3) : 0.01 + 0.01 * ((k + j) % 4);
    const counts = baselineProps.map((b, bi) => Math.max(0, Math.round(3000 * (j === 2 ? b * (1 + shift * (bi - 4.5) / 4) : b) * (1 + 0.05 * Math.sin(k + bi)))));
    return { name, psi: p, js: p * 0.7, ks: p * 0.6, state: p >= 0.25 ? 'drift' : 'ok', counts };
  };
  const features = feats.map(entry);
  return {
    t: iso(t), kind: 'window', model: 'vibration', version, state: features.some((f) => f.state === 'drift') ? 'drift' : 'ok', count: 3000,
    features, outputs: [{ name: 'label', psi: 0.02, js: 0.03, ks: 0.02, state: 'ok', counts: [1750, 950, 300] }],
  };
}
function detailOf(row) {
  const i = ids.indexOf(row.device);
  const health = Array.from({ length: 90 }, (_, k) => {
    const t = start - (90 - k) * 2000;
    return {
      t: iso(t), inferenceRate: 50 + 4 * Math.sin(k / 6) + (k % 7) * 0.3, p50Ms: 0.2 + 0.02 * Math.sin(k / 5), p95Ms: 0.26 + 0.03 * Math.sin(k / 4),
      p99Ms: 0.34 + 0.06 * Math.abs(Math.sin(k / 3)), requests: 100 * k, errors: Math.floor(k / 9) + (k > 60 && i === 3 ? (k - 60) * 4 : 0),
      cpuPercent: row.cpuPercent + Math.sin(k / 4), rssBytes: row.rssBytes + k * 20000, outboxDepth: k > 70 ? (k - 70) % 5 : 0,
    };
  });
  const drift = Array.from({ length: 30 }, (_, k) => windowAt(k, start - (30 - k) * 60_000, i === 7, row.models[0].activeVersion));
  const events = [
    ['Pending', '1.1.0'], ['Fetching', '1.1.0'], ['Verifying', '1.1.0'], ['Staging', '1.1.0'], ['Activating', '1.1.0'], ['Probation', '1.1.0'],
    ...(i === 3 ? [['RollingBack', '1.1.0'], ['RolledBack', '1.1.0']] : [['Active', '1.1.0']]),
  ].map(([state, version], k) => ({
    seq: 10 + k, deviceId: row.device, type: 'deployment', model: 'vibration', version, state,
    reason: state === 'RolledBack' ? row.models[0].reason : state === 'Probation' ? 'watched until later' : undefined, timestamp: iso(start - 200_000 + k * 10_000),
  }));
  return { row, health, drift, events, baselines: { 'vibration@1.1.0': baseline, 'vibration@1.0.0': baseline } };
}

const snapshot = () => ({ info, devices, rollouts, alerts });
const clients = new Set();
const send = (res, event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
setInterval(() => {
  for (const d of devices) {
    if (d.state === 'offline') continue;
    d.lastHeartbeat = iso(Date.now());
    d.heartbeatAgeSeconds = 0;
    const point = { t: d.lastHeartbeat, inferenceRate: 48 + Math.random() * 4, p50Ms: 0.2, p95Ms: 0.25, p99Ms: 0.3 + Math.random() * 0.1, requests: 0, errors: 0, cpuPercent: d.cpuPercent, rssBytes: d.rssBytes, outboxDepth: 0 };
    for (const c of clients) {
      send(c, 'device', d);
      send(c, 'health', { device: d.device, point });
    }
  }
}, 2000).unref();

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const json = (status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/api/info') return json(200, info);
  if (url.pathname === '/api/snapshot') return json(200, snapshot());
  if (url.pathname === '/api/stream') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    send(res, 'snapshot', snapshot());
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }
  const dev = url.pathname.match(/^\/api\/devices\/(.+)$/);
  if (dev) {
    const row = devices.find((d) => d.device === decodeURIComponent(dev[1]));
    return row ? json(200, detailOf(row)) : json(404, { error: `unknown device '${decodeURIComponent(dev[1])}'` });
  }
  const op = url.pathname.match(/^\/api\/rollouts\/([^/]+)\/(pause|resume|abort)$/);
  if (op && req.method === 'POST') {
    if (req.headers['x-edgeagent-confirm'] !== 'yes') return json(400, { error: 'missing X-EdgeAgent-Confirm: yes' });
    if (readOnly) return json(403, { error: 'read-only dashboard: start it with --operator to control rollouts' });
    const r = rollouts.find((x) => x.id === decodeURIComponent(op[1]));
    if (!r) return json(404, { error: 'unknown rollout' });
    if (r.state === 'completed' || r.state === 'aborted') return json(409, { error: `rollout '${r.id}' is ${r.state}; nothing to ${op[2]}` });
    r.state = { pause: 'paused', resume: 'running', abort: 'aborted' }[op[2]];
    r.revision++;
    r.updated = iso(Date.now());
    for (const c of clients) send(c, 'rollout', r);
    return json(200, r);
  }
  if (url.pathname.startsWith('/api/')) return json(404, { error: 'not found' });
  const path = normalize(join(root, url.pathname === '/' ? 'index.html' : url.pathname));
  try {
    const body = await readFile(path.startsWith(root) ? path : join(root, 'index.html'));
    res.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(body);
  } catch {
    res.writeHead(200, { 'Content-Type': types['.html'] });
    res.end(await readFile(join(root, 'index.html')));
  }
}).listen(port, '127.0.0.1', () => console.log(`mock dashboard: http://127.0.0.1:${port}/ (${readOnly ? 'read-only' : 'operator'})`));
