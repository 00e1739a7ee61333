import { describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { DeviceDetail } from '../components/DeviceDetail.jsx';
import { histogramData } from '../histogram.js';
import { device } from './fixtures.js';

const baseline = {
  samples: 1000,
  bins: 4,
  thresholds: { psi: { raise: 0.25, clear: 0.1 }, js: { raise: 0.2, clear: 0.1 }, ks: { raise: 0.2, clear: 0.1 } },
  features: [
    { name: 'features[0]', edges: [0, 1, 2], classes: null, proportions: [0.1, 0.4, 0.4, 0.1] },
    { name: 'features[1]', edges: null, classes: [0, 1], proportions: [0.7, 0.3] },
  ],
  outputs: [],
};

const window = (t, psi, counts0, kind = 'window') => ({
  t,
  kind,
  model: 'vibration',
  version: '1.0.0',
  state: psi >= 0.25 ? 'drift' : 'ok',
  count: 100,
  features: [
    { name: 'features[0]', psi, js: psi / 2, ks: psi / 3, state: psi >= 0.25 ? 'drift' : 'ok', counts: counts0 },
    { name: 'features[1]', psi: 0.01, js: 0.02, ks: 0.03, state: 'ok', counts: [20, 80] },
  ],
  outputs: [],
});

const detail = {
  row: device('demo-1'),
  health: [
    { t: '2026-11-27T08:00:00Z', inferenceRate: 49.9, p50Ms: 0.2, p95Ms: 0.23, p99Ms: 0.3, requests: 100, errors: 1, cpuPercent: 3, rssBytes: 104857600, outboxDepth: 0 },
    { t: '2026-11-27T08:00:02Z', inferenceRate: 50.1, p50Ms: 0.2, p95Ms: 0.25, p99Ms: 0.4, requests: 200, errors: 4, cpuPercent: 4, rssBytes: 209715200, outboxDepth: 3 },
  ],
  drift: [
    window('2026-11-27T08:00:00Z', 0.02, [10, 40, 40, 10]),
    window('2026-11-27T08:01:00Z', 0.4, [50, 30, 15, 5]),
    window('2026-11-27T08:01:00Z', 0.4, [50, 30, 15, 5], 'alert'),
  ],
  events: [
    { seq: 1, type: 'deployment', model: 'vibration', version: '1.0.0', state: 'Active', timestamp: '2026-11-27T07:59:00Z' },
    { seq: 2, type: 'deployment', model: 'vibration', version: '1.1.0', state: 'Failed', reason: 'unknown-key: nope', timestamp: '2026-11-27T08:00:30Z' },
  ],
  baselines: { 'vibration@1.0.0': baseline },
};

const series = (testId, label) =>
  JSON.parse(screen.getByTestId(testId).querySelector(`[data-series="${label}"]`)?.dataset.values ?? 'null');
const labels = (testId) => JSON.parse(screen.getByTestId(testId).querySelector('[data-labels]').dataset.labels);

function renderDetail(body = detail, status = 200) {
  const fetch = vi.fn(() => Promise.resolve(new Response(JSON.stringify(body), { status })));
  vi.stubGlobal('fetch', fetch);
  let push;
  const subscribe = (fn) => {
    push = fn;
    return () => {};
  };
  render(<DeviceDetail id="demo-1" subscribe={subscribe} now={Date.now()} />);
  return { fetch, push: (a) => act(() => push(a)) };
}

describe('histogram data', () => {
  it('puts the baseline proportions next to the latest window\'s shares of its counts', () => {
    const h = histogramData(baseline.features[0], { counts: [50, 30, 15, 5] });
    expect(h.labels).toEqual(['< 0', '0 – 1', '1 – 2', '≥ 2']);
    expect(h.baseline).toEqual([0.1, 0.4, 0.4, 0.1]);
    expect(h.current).toEqual([0.5, 0.3, 0.15, 0.05]);
    expect(h.total).toBe(100);
  });

  it('labels class bins and explains a window without usable counts', () => {
    expect(histogramData(baseline.features[1], { counts: [1, 3] }).labels).toEqual(['class 0', 'class 1']);
    expect(histogramData(baseline.features[1], { counts: null })).toMatchObject({ current: null, note: 'the latest window carries no bin counts' });
    expect(histogramData(baseline.features[1], { counts: [1, 2, 3] }).note).toBe('the latest window has 3 bins, the baseline 2');
    expect(histogramData(baseline.features[1], { counts: [0, 0] }).note).toBe('the latest window holds no values');
  });
});

describe('device detail', () => {
  it('loads the device and charts its health', async () => {
    const { fetch } = renderDetail();
    expect(await screen.findByText('Health')).toBeTruthy();
    expect(fetch.mock.calls[0][0]).toBe('/api/devices/demo-1');
    expect(screen.getByText('Inference rate (req/s)')).toBeTruthy();
    expect(screen.getByText('RSS (MiB)')).toBeTruthy();
    // errors are running totals: the chart shows how many each heartbeat added
    expect(screen.getByText('Errors per heartbeat').closest('figure').querySelector('[data-series="errors"]').dataset.values).toBe('[null,3]');
  });

  it('lists deployment events newest first', async () => {
    renderDetail();
    const rows = await screen.findAllByTestId('event-row');
    expect(within(rows[0]).getByText('Failed')).toBeTruthy();
    expect(within(rows[0]).getByText('unknown-key: nope')).toBeTruthy();
    expect(within(rows[1]).getByText('Active')).toBeTruthy();
  });

  it('shows baseline vs current histogram of the drifting feature, and of another one when picked', async () => {
    renderDetail();
    await screen.findByText('Drift');
    expect(screen.getByLabelText('feature').value).toBe('features[0]');
    expect(series('drift-histogram', 'baseline')).toEqual([0.1, 0.4, 0.4, 0.1]);
    expect(series('drift-histogram', 'latest window (100)')).toEqual([0.5, 0.3, 0.15, 0.05]);
    fireEvent.change(screen.getByLabelText('feature'), { target: { value: 'features[1]' } });
    expect(labels('drift-histogram')).toEqual(['class 0', 'class 1']);
    expect(series('drift-histogram', 'baseline')).toEqual([0.7, 0.3]);
    expect(series('drift-histogram', 'latest window (100)')).toEqual([0.2, 0.8]);
  });

  it('plots PSI over windows (alerts not counted twice) with the baseline\'s thresholds', async () => {
    renderDetail();
    await screen.findByText('Drift');
    expect(series('drift-psi', 'PSI')).toEqual([0.02, 0.4]);
    expect(series('drift-psi', 'raise 0.25')).toEqual([0.25, 0.25]);
    expect(series('drift-psi', 'clear 0.1')).toEqual([0.1, 0.1]);
  });

  it('appends live events for this device', async () => {
    const { push } = renderDetail();
    await screen.findByText('Health');
    push({ type: 'health', data: { device: 'demo-1', point: { ...detail.health[1], t: '2026-11-27T08:00:04Z', inferenceRate: 12 } } });
    push({ type: 'health', data: { device: 'other', point: { ...detail.health[1], inferenceRate: 99 } } });
    expect(screen.getByText('Inference rate (req/s)').closest('figure').querySelector('[data-series="req/s"]').dataset.values).toBe('[49.9,50.1,12]');
    push({ type: 'drift', data: { device: 'demo-1', window: window('2026-11-27T08:02:00Z', 0.05, [25, 25, 25, 25]) } });
    expect(series('drift-histogram', 'latest window (100)')).toEqual([0.25, 0.25, 0.25, 0.25]);
    push({ type: 'deployment', data: { device: 'demo-1', event: { seq: 3, type: 'deployment', model: 'vibration', version: '1.1.0', state: 'RolledBack', timestamp: '2026-11-27T08:03:00Z' } } });
    expect(within(screen.getAllByTestId('event-row')[0]).getByText('RolledBack')).toBeTruthy();
  });

  it('loads the device again when the stream reconnects (a new snapshot), since events may have been missed', async () => {
    const { fetch, push } = renderDetail();
    await screen.findByText('Health');
    expect(fetch).toHaveBeenCalledTimes(1);
    push({ type: 'snapshot', data: { devices: [], rollouts: [], alerts: [] } });
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(2));
    expect(fetch.mock.calls[1][0]).toBe('/api/devices/demo-1');
  });

  it('says when the device is unknown', async () => {
    renderDetail({ error: 'unknown device' }, 404);
    expect(await screen.findByText("no device 'demo-1' is known to this dashboard")).toBeTruthy();
  });
});
