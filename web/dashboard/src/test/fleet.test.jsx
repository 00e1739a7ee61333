import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { FleetView } from '../components/FleetView.jsx';
import { Header } from '../components/Header.jsx';
import { initialState, reducer } from '../state.js';
import { alert, device } from './fixtures.js';

const devices = [
  device('a-1', { groups: ['line-1'] }),
  device('a-2', { state: 'offline', groups: ['line-1'] }),
  device('b-1', {
    groups: ['line-2'],
    models: [{ name: 'vibration', activeVersion: '1.0.0', version: '1.1.0', state: 'Probation' }],
  }),
  device('b-2', {
    state: 'stale',
    groups: ['line-2'],
    models: [{ name: 'thermal', activeVersion: '1.1.0', version: '1.1.0', state: 'Active' }],
  }),
];

const rows = () => screen.queryAllByTestId(/^device-row-/).map((r) => r.dataset.testid.replace('device-row-', ''));
const pick = (label, value) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe('fleet table filters', () => {
  it('shows every device with its state badge until a filter is set', () => {
    render(<FleetView devices={devices} alerts={[]} now={Date.now()} loaded />);
    expect(rows()).toEqual(['a-1', 'a-2', 'b-1', 'b-2']);
    expect(screen.getByTestId('device-state-a-2').textContent).toBe('offline');
    expect(screen.getByText('4 of 4 devices')).toBeTruthy();
  });

  it('filters by state and by group, and both together', () => {
    render(<FleetView devices={devices} alerts={[]} now={Date.now()} loaded />);
    pick('state', 'offline');
    expect(rows()).toEqual(['a-2']);
    pick('state', '');
    pick('group', 'line-2');
    expect(rows()).toEqual(['b-1', 'b-2']);
    pick('state', 'stale');
    expect(rows()).toEqual(['b-2']);
    expect(screen.getByText('1 of 4 devices')).toBeTruthy();
  });

  it('filters by model and version: a device matches with the version it serves or is moving to', () => {
    render(<FleetView devices={devices} alerts={[]} now={Date.now()} loaded />);
    pick('version', '1.1.0');
    expect(rows()).toEqual(['b-1', 'b-2']);
    pick('model', 'vibration');
    expect(rows()).toEqual(['b-1']);
    pick('model', 'thermal');
    pick('version', '1.0.0');
    expect(rows()).toEqual([]);
    expect(screen.getByText('no devices match')).toBeTruthy();
    fireEvent.click(screen.getByText('clear'));
    expect(rows()).toHaveLength(4);
  });

  it('offers only the groups, models and versions present', () => {
    render(<FleetView devices={devices} alerts={[]} now={Date.now()} loaded />);
    const options = (label) => within(screen.getByLabelText(label)).getAllByRole('option').map((o) => o.textContent);
    expect(options('group')).toEqual(['all', 'line-1', 'line-2']);
    expect(options('model')).toEqual(['all', 'thermal', 'vibration']);
    expect(options('version')).toEqual(['all', '1.0.0', '1.1.0']);
  });

  it('shows the heartbeat age ticking from when the row arrived', () => {
    const row = { ...device('a-1', { heartbeatAgeSeconds: 2 }), receivedAt: 1_000_000 };
    const { rerender } = render(<FleetView devices={[row]} alerts={[]} now={1_000_000} loaded />);
    expect(within(screen.getByTestId('device-row-a-1')).getByText('2s ago')).toBeTruthy();
    rerender(<FleetView devices={[row]} alerts={[]} now={1_000_000 + 75_000} loaded />);
    expect(within(screen.getByTestId('device-row-a-1')).getByText('1m 17s ago')).toBeTruthy();
  });

  it('says so when there are no devices, and links alerts to their device', () => {
    render(<FleetView devices={[]} alerts={[alert('x', { device: 'pump-7' })]} now={0} loaded />);
    expect(screen.getByText(/no devices yet/)).toBeTruthy();
    const link = within(screen.getByTestId('alert-row')).getByText('pump-7');
    expect(link.getAttribute('href')).toBe('#/devices/pump-7');
  });
});

describe('header', () => {
  const state = reducer(initialState, {
    type: 'snapshot',
    data: { info: { readOnly: true, connected: true, broker: 'mqtt://x' }, devices, rollouts: [], alerts: [] },
    at: 0,
  });

  it('counts devices by state', () => {
    render(<Header route={{ view: 'fleet' }} state={{ ...state, stream: 'open' }} />);
    expect(screen.getByText('4 devices')).toBeTruthy();
    expect(screen.getByTitle('2 online')).toBeTruthy();
    expect(screen.getByTitle('1 offline')).toBeTruthy();
    expect(screen.getByTitle('1 stale')).toBeTruthy();
  });

  it('shows whether the stream and the broker are connected', () => {
    const { rerender } = render(<Header route={{ view: 'fleet' }} state={{ ...state, stream: 'open' }} />);
    expect(screen.getByTestId('conn-indicator').dataset.state).toBe('live');
    rerender(<Header route={{ view: 'fleet' }} state={{ ...state, stream: 'reconnecting' }} />);
    expect(screen.getByTestId('conn-indicator').textContent).toMatch(/disconnected/);
    rerender(<Header route={{ view: 'fleet' }} state={{ ...state, stream: 'open', info: { ...state.info, connected: false } }} />);
    expect(screen.getByTestId('conn-indicator').textContent).toMatch(/broker unreachable/);
  });
});
