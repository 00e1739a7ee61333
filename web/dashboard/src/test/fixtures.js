export const device = (id, over = {}) => ({
  device: id,
  state: 'online',
  healthy: true,
  connection: 'online',
  heartbeatAgeSeconds: 1,
  heartbeatIntervalSeconds: 2,
  lastHeartbeat: '2026-11-27T08:00:00Z',
  agentVersion: '0.1.0',
  deviceType: 'type-a',
  groups: ['line-1'],
  models: [{ name: 'vibration', activeVersion: '1.0.0', version: '1.0.0', state: 'Active', reason: null }],
  drift: [{ model: 'vibration', version: '1.0.0', state: 'ok' }],
  cpuPercent: 3.1,
  rssBytes: 120000000,
  outboxDepth: 0,
  ...over,
});

/** 10 targets in waves 1 / 5 / 10 (cumulative); `statuses` maps device id to its rollout status. */
export const rollout = (over = {}, statuses = {}) => {
  const targets = Array.from({ length: 10 }, (_, i) => `d${i + 1}`);
  const devices = Object.fromEntries(targets.map((t) => [t, { status: statuses[t] ?? 'pending' }]));
  return {
    id: 'r1',
    model: 'vibration',
    version: '1.1.0',
    group: 'line-1',
    targets,
    waves: ['1', '50%', '100%'],
    waveSizes: [1, 5, 10],
    successThreshold: 0.9,
    abortThreshold: 0.2,
    probationSeconds: 30,
    waveTimeoutSeconds: 300,
    rollbackSucceeded: true,
    state: 'running',
    currentWave: 2,
    reason: null,
    devices,
    counts: { pending: 5, targeted: 2, succeeded: 2, failed: 1, targetedSoFar: 5 },
    created: '2026-11-27T08:00:00Z',
    updated: '2026-11-27T08:05:00Z',
    revision: 7,
    writer: 'edgectl-1',
    timeline: [],
    driver: 'edgectl-1',
    ...over,
  };
};

export const alert = (id, over = {}) => ({
  id,
  kind: 'drift',
  severity: 'warning',
  device: 'demo-1',
  model: 'vibration',
  version: '1.0.0',
  at: '2026-11-27T08:01:00Z',
  message: 'drift raised on features[0]',
  active: true,
  ...over,
});
