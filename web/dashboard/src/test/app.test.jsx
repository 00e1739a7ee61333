import { describe, expect, it, vi } from 'vitest';
import { act, render, screen, waitFor } from '@testing-library/react';
import App from '../App.jsx';
import { alert, device, rollout } from './fixtures.js';

/** An EventSource the test drives: `emit(type, data)`, `fail()` (connection lost), `open()`. */
class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static last = null;
  constructor(url) {
    this.url = url;
    this.readyState = FakeEventSource.CONNECTING;
    this.listeners = {};
    FakeEventSource.last = this;
  }
  addEventListener(type, fn) {
    (this.listeners[type] ??= []).push(fn);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  open() {
    this.readyState = FakeEventSource.OPEN;
    act(() => this.onopen?.());
  }
  fail() {
    this.readyState = FakeEventSource.CONNECTING;
    act(() => this.onerror?.());
  }
  emit(type, data) {
    act(() => (this.listeners[type] ?? []).forEach((fn) => fn({ data: JSON.stringify(data) })));
  }
}

const snapshot = {
  info: { broker: 'mqtt://127.0.0.1:1883', prefix: 'edgeagent/v1', readOnly: true, version: '0.1.0', connected: true },
  devices: [device('demo-1'), device('demo-2')],
  rollouts: [rollout()],
  alerts: [],
};

function start(hash = '#/') {
  window.location.hash = hash;
  vi.stubGlobal('EventSource', FakeEventSource);
  const fetch = vi.fn(() => Promise.resolve(new Response(JSON.stringify(snapshot), { status: 200 })));
  vi.stubGlobal('fetch', fetch);
  render(<App />);
  return { fetch, es: FakeEventSource.last };
}

describe('app', () => {
  it('loads the snapshot, then follows the stream', async () => {
    const { fetch, es } = start();
    expect(fetch.mock.calls[0][0]).toBe('/api/snapshot');
    expect(es.url).toBe('/api/stream');
    await screen.findByTestId('device-row-demo-2');
    es.open();
    expect(screen.getByTestId('conn-indicator').dataset.state).toBe('live');

    es.emit('device', device('demo-2', { state: 'offline' }));
    expect(screen.getByTestId('device-state-demo-2').textContent).toBe('offline');
    es.emit('device', device('demo-3'));
    expect(screen.getByTestId('device-row-demo-3')).toBeTruthy();
    es.emit('alert', alert('a1', { device: 'demo-3', message: 'drift raised on features[4]' }));
    expect(screen.getByTestId('alert-row').textContent).toMatch(/features\[4\]/);
  });

  it('shows a lost stream and a lost broker in the connection indicator', async () => {
    const { es } = start();
    await screen.findByTestId('device-row-demo-1');
    es.open();
    es.emit('info', { connected: false });
    expect(screen.getByTestId('conn-indicator').dataset.state).toBe('broker-down');
    es.fail();
    expect(screen.getByTestId('conn-indicator').textContent).toMatch(/disconnected/);
    es.open();
    es.emit('info', { connected: true });
    expect(screen.getByTestId('conn-indicator').dataset.state).toBe('live');
  });

  it('routes by hash: a rollout page follows rollout events', async () => {
    const { es } = start('#/rollouts/r1');
    await waitFor(() => expect(screen.getByTestId('rollout-state').textContent).toBe('running'));
    es.emit('rollout', rollout({ state: 'paused', revision: 8 }));
    expect(screen.getByTestId('rollout-state').textContent).toBe('paused');
    // read-only (info.readOnly): controls are disabled
    expect(screen.getByTestId('btn-resume').disabled).toBe(true);
  });
});
