import { describe, expect, it } from 'vitest';
import { detailReducer, heartbeatAge, initialState, reducer } from '../state.js';
import { alert, device, rollout } from './fixtures.js';

const snapshot = {
  info: { broker: 'mqtt://127.0.0.1:1883', prefix: 'edgeagent/v1', readOnly: true, version: '0.1.0', connected: true },
  devices: [device('demo-10'), device('demo-2'), device('demo-1')],
  rollouts: [rollout({ id: 'old', created: '2026-11-26T08:00:00Z' }), rollout({ id: 'new' })],
  alerts: [alert('a1')],
};

const apply = (...actions) => actions.reduce(reducer, initialState);

describe('reducer', () => {
  it('takes the snapshot: devices in natural id order, newest rollout first', () => {
    const s = apply({ type: 'snapshot', data: snapshot, at: 1000 });
    expect(s.loaded).toBe(true);
    expect(s.devices.map((d) => d.device)).toEqual(['demo-1', 'demo-2', 'demo-10']);
    expect(s.rollouts.map((r) => r.id)).toEqual(['new', 'old']);
    expect(s.info.readOnly).toBe(true);
  });

  it('a device event replaces that device and adds unknown ones', () => {
    const s = apply(
      { type: 'snapshot', data: snapshot, at: 1000 },
      { type: 'device', data: device('demo-2', { state: 'offline' }), at: 2000 },
      { type: 'device', data: device('demo-3', { state: 'stale' }), at: 2000 },
    );
    expect(s.devices.map((d) => [d.device, d.state])).toEqual([
      ['demo-1', 'online'],
      ['demo-2', 'offline'],
      ['demo-3', 'stale'],
      ['demo-10', 'online'],
    ]);
  });

  it('a rollout event updates the rollout, but an older revision does not undo a newer one', () => {
    let s = apply(
      { type: 'snapshot', data: snapshot, at: 1000 },
      { type: 'rollout', data: rollout({ id: 'new', revision: 9, state: 'paused' }) },
    );
    expect(s.rollouts.find((r) => r.id === 'new').state).toBe('paused');
    s = reducer(s, { type: 'rollout', data: rollout({ id: 'new', revision: 8, state: 'running' }) });
    expect(s.rollouts.find((r) => r.id === 'new').state).toBe('paused');
    s = reducer(s, { type: 'rollout', data: rollout({ id: 'third', created: '2026-11-28T00:00:00Z' }) });
    expect(s.rollouts.map((r) => r.id)).toEqual(['third', 'new', 'old']);
  });

  it('alerts arrive newest first and a cleared alert replaces the raised one', () => {
    const s = apply(
      { type: 'snapshot', data: snapshot, at: 1000 },
      { type: 'alert', data: alert('a2', { device: 'demo-2' }) },
      { type: 'alert', data: alert('a1', { active: false }) },
    );
    expect(s.alerts.map((a) => [a.id, a.active])).toEqual([
      ['a1', false],
      ['a2', true],
    ]);
  });

  it('an info event marks the broker disconnected; a stream error marks the stream reconnecting', () => {
    const s = apply(
      { type: 'snapshot', data: snapshot, at: 1000 },
      { type: 'info', data: { connected: false } },
      { type: 'stream', status: 'reconnecting' },
    );
    expect(s.info.connected).toBe(false);
    expect(s.info.broker).toBe('mqtt://127.0.0.1:1883');
    expect(s.stream).toBe('reconnecting');
  });

  it('a later snapshot (stream reconnect) replaces everything', () => {
    const s = apply(
      { type: 'snapshot', data: snapshot, at: 1000 },
      { type: 'snapshot', data: { ...snapshot, devices: [device('x')], alerts: [] }, at: 5000 },
    );
    expect(s.devices.map((d) => d.device)).toEqual(['x']);
    expect(s.alerts).toEqual([]);
  });
});

describe('heartbeat age', () => {
  it('ticks on from the age the server sent', () => {
    const s = apply({ type: 'device', data: device('d', { heartbeatAgeSeconds: 1.5 }), at: 10_000 });
    expect(heartbeatAge(s.devices[0], 10_000)).toBeCloseTo(1.5);
    expect(heartbeatAge(s.devices[0], 40_000)).toBeCloseTo(31.5);
  });

  it('falls back to lastHeartbeat', () => {
    const row = device('d', { heartbeatAgeSeconds: null });
    expect(heartbeatAge(row, Date.parse('2026-11-27T08:01:00Z'))).toBe(60);
    expect(heartbeatAge(device('d', { heartbeatAgeSeconds: null, lastHeartbeat: null }), 0)).toBeNull();
  });
});

describe('detailReducer', () => {
  const detail = { row: device('demo-1'), health: [], drift: [], events: [], baselines: {} };

  it('appends live health, drift and deployment events of its own device only', () => {
    const point = { t: '2026-11-27T08:00:02Z', inferenceRate: 50 };
    let d = detailReducer(detail, { type: 'health', data: { device: 'demo-1', point } });
    d = detailReducer(d, { type: 'health', data: { device: 'demo-2', point } });
    d = detailReducer(d, { type: 'deployment', data: { device: 'demo-1', event: { state: 'Failed' } } });
    d = detailReducer(d, { type: 'drift', data: { device: 'demo-1', window: { t: 'x', model: 'vibration' } } });
    expect(d.health).toEqual([point]);
    expect(d.events).toEqual([{ state: 'Failed' }]);
    expect(d.drift).toHaveLength(1);
  });

  it('keeps at most 720 health points', () => {
    let d = { ...detail, health: Array.from({ length: 720 }, (_, i) => ({ t: String(i) })) };
    d = detailReducer(d, { type: 'health', data: { device: 'demo-1', point: { t: 'last' } } });
    expect(d.health).toHaveLength(720);
    expect(d.health[0].t).toBe('1');
    expect(d.health[719].t).toBe('last');
  });
});
