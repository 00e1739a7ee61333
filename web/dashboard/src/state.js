// The dashboard's state and the pure reducer that applies /api/snapshot and /api/stream events to it.
// Every action carries `at` (ms since epoch, when the browser received it) so nothing here reads the clock.

export const MAX_ALERTS = 500;
export const MAX_HEALTH = 720;
export const MAX_DRIFT = 720;
export const MAX_EVENTS = 200;

/** Event names of /api/stream. */
export const STREAM_EVENTS = ['snapshot', 'device', 'rollout', 'alert', 'health', 'drift', 'deployment', 'info'];

export const initialState = {
  loaded: false,
  info: null,
  devices: [],
  rollouts: [],
  alerts: [],
  stream: 'connecting', // connecting | open | reconnecting
  error: null,
};

const byDevice = (a, b) => a.device.localeCompare(b.device, undefined, { numeric: true });
const byCreatedDesc = (a, b) => String(b.created ?? '').localeCompare(String(a.created ?? '')) || a.id.localeCompare(b.id);

/** Remembers when a row arrived, so its heartbeat age can tick on from the server's `heartbeatAgeSeconds`. */
const stamp = (row, at) => (at == null ? row : { ...row, receivedAt: at });

function upsert(list, item, key, sort) {
  const i = list.findIndex((x) => x[key] === item[key]);
  const next = i < 0 ? [...list, item] : list.map((x, j) => (j === i ? item : x));
  return sort ? next.sort(sort) : next;
}

export function reducer(state, action) {
  switch (action.type) {
    case 'snapshot': {
      const s = action.data ?? {};
      return {
        ...state,
        loaded: true,
        error: null,
        info: s.info ?? state.info,
        devices: (s.devices ?? []).map((d) => stamp(d, action.at)).sort(byDevice),
        rollouts: [...(s.rollouts ?? [])].sort(byCreatedDesc),
        alerts: (s.alerts ?? []).slice(0, MAX_ALERTS),
      };
    }
    case 'device':
      if (!action.data?.device) return state;
      return { ...state, devices: upsert(state.devices, stamp(action.data, action.at), 'device', byDevice) };
    case 'rollout': {
      const r = action.data;
      if (!r?.id) return state;
      const held = state.rollouts.find((x) => x.id === r.id);
      // An answer to a POST can arrive after the stream already brought a newer revision.
      if (held && (held.revision ?? 0) > (r.revision ?? 0)) return state;
      return { ...state, rollouts: upsert(state.rollouts, r, 'id', byCreatedDesc) };
    }
    case 'alert': {
      const a = action.data;
      if (!a?.id) return state;
      return { ...state, alerts: [a, ...state.alerts.filter((x) => x.id !== a.id)].slice(0, MAX_ALERTS) };
    }
    case 'info':
      return { ...state, info: { ...state.info, ...action.data } };
    case 'stream':
      return { ...state, stream: action.status };
    case 'load-error':
      return { ...state, error: action.error };
    default:
      return state;
  }
}

/** Applies a stream event to one device's detail (GET /api/devices/{id}); events for other devices leave it as it is. */
export function detailReducer(detail, action) {
  if (!detail?.row) return detail;
  const id = detail.row.device;
  const d = action.data;
  switch (action.type) {
    case 'device':
      return d?.device === id ? { ...detail, row: stamp(d, action.at) } : detail;
    case 'health':
      return d?.device === id && d.point ? { ...detail, health: [...(detail.health ?? []), d.point].slice(-MAX_HEALTH) } : detail;
    case 'drift':
      return d?.device === id && d.window ? { ...detail, drift: [...(detail.drift ?? []), d.window].slice(-MAX_DRIFT) } : detail;
    case 'deployment':
      return d?.device === id && d.event ? { ...detail, events: [...(detail.events ?? []), d.event].slice(-MAX_EVENTS) } : detail;
    default:
      return detail;
  }
}

/** Seconds since the device's last heartbeat at `now` (ms), or null when it never sent one. */
export function heartbeatAge(row, now) {
  if (typeof row.heartbeatAgeSeconds === 'number' && typeof row.receivedAt === 'number') {
    return Math.max(0, row.heartbeatAgeSeconds + (now - row.receivedAt) / 1000);
  }
  if (row.lastHeartbeat) {
    const t = Date.parse(row.lastHeartbeat);
    if (!Number.isNaN(t)) return Math.max(0, (now - t) / 1000);
  }
  return typeof row.heartbeatAgeSeconds === 'number' ? row.heartbeatAgeSeconds : null;
}

export const DEVICE_STATES = ['online', 'stale', 'offline', 'unknown'];

export function countByState(devices) {
  const counts = Object.fromEntries(DEVICE_STATES.map((s) => [s, 0]));
  for (const d of devices) counts[DEVICE_STATES.includes(d.state) ? d.state : 'unknown']++;
  return counts;
}
