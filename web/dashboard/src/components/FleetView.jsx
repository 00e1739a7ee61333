import { useMemo, useState } from 'react';
import { Badge } from './Badge.jsx';
import { AlertList } from './AlertList.jsx';
import { DEVICE_STATES, heartbeatAge } from '../state.js';
import { emptyFilters, filterDevices, filterOptions } from '../fleet.js';
import { deviceHref } from '../hooks.js';
import { formatAge } from '../format.js';

function Select({ label, value, options, onChange, name }) {
  return (
    <label className="filter">
      <span>{label}</span>
      <select name={name} aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

function ModelCell({ models }) {
  if (!models?.length) return <span className="muted">none</span>;
  return (
    <div className="stack">
      {models.map((m) => (
        <div key={m.name} className="nowrap">
          <strong>{m.name}</strong>{' '}
          <span className="mono-sm">{m.activeVersion ?? '—'}</span>
          {m.version && m.version !== m.activeVersion ? <span className="mono-sm muted"> → {m.version}</span> : null}
        </div>
      ))}
    </div>
  );
}

function DeploymentCell({ models }) {
  if (!models?.length) return <span className="muted">—</span>;
  return (
    <div className="stack">
      {models.map((m) => (
        <div key={m.name} title={m.reason ?? undefined}>
          <Badge value={m.state} />
        </div>
      ))}
    </div>
  );
}

function DriftCell({ drift }) {
  if (!drift?.length) return <span className="muted">—</span>;
  return (
    <div className="stack">
      {drift.map((d) => (
        <div key={`${d.model}@${d.version}`} title={`${d.model}@${d.version}`}>
          <Badge value={d.state} />
        </div>
      ))}
    </div>
  );
}

export function FleetTable({ devices, now }) {
  if (devices.length === 0) return <p className="empty">no devices match</p>;
  return (
    <table className="table fleet">
      <thead>
        <tr>
          <th>device</th>
          <th>state</th>
          <th>models</th>
          <th>deployment</th>
          <th className="num">heartbeat</th>
          <th>drift</th>
          <th>groups</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((d) => {
          const age = heartbeatAge(d, now);
          return (
            <tr key={d.device} data-testid={`device-row-${d.device}`}>
              <td>
                <a href={deviceHref(d.device)} className="strong">
                  {d.device}
                </a>
                {d.deviceType ? <div className="muted small">{d.deviceType}</div> : null}
              </td>
              <td>
                <Badge value={d.state} testId={`device-state-${d.device}`} />
                {d.healthy === false && d.state === 'online' ? (
                  <span className="warn-mark" title="unhealthy">
                    !
                  </span>
                ) : null}
              </td>
              <td>
                <ModelCell models={d.models} />
              </td>
              <td>
                <DeploymentCell models={d.models} />
              </td>
              <td className="num nowrap" title={d.lastHeartbeat ?? 'no heartbeat yet'}>
                {age == null ? '—' : `${formatAge(age)} ago`}
              </td>
              <td>
                <DriftCell drift={d.drift} />
              </td>
              <td className="small">{(d.groups ?? []).join(', ') || <span className="muted">—</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function FleetView({ devices, alerts, now, loaded }) {
  const [filters, setFilters] = useState(emptyFilters);
  const options = useMemo(() => filterOptions(devices), [devices]);
  const shown = useMemo(() => filterDevices(devices, filters), [devices, filters]);
  const set = (k) => (v) => setFilters((f) => ({ ...f, [k]: v }));
  const filtered = Object.values(filters).some(Boolean);
  return (
    <div className="fleet-layout">
      <section className="card">
        <div className="card-head">
          <h2>Recent alerts</h2>
          <a href="#/alerts" className="small">
            all alerts →
          </a>
        </div>
        <AlertList alerts={alerts} limit={4} emptyText="no alerts" />
      </section>
      <section className="card">
        <div className="card-head">
          <h2>Devices</h2>
          <div className="filters">
            <Select label="group" name="group" value={filters.group} options={options.groups} onChange={set('group')} />
            <Select label="model" name="model" value={filters.model} options={options.models} onChange={set('model')} />
            <Select
              label="version"
              name="version"
              value={filters.version}
              options={options.versions}
              onChange={set('version')}
            />
            <Select label="state" name="state" value={filters.state} options={DEVICE_STATES} onChange={set('state')} />
            {filtered && (
              <button type="button" className="btn btn-small" onClick={() => setFilters(emptyFilters)}>
                clear
              </button>
            )}
          </div>
        </div>
        {devices.length === 0 ? (
          <p className="empty">{loaded ? 'no devices yet: devices appear when they publish status' : 'loading…'}</p>
        ) : (
          <>
            <FleetTable devices={shown} now={now} />
            <p className="muted small table-foot">
              {shown.length} of {devices.length} devices
            </p>
          </>
        )}
      </section>
    </div>
  );
}
