import { useState } from 'react';
import { Badge } from './Badge.jsx';
import { ConfirmDialog } from './ConfirmDialog.jsx';
import { COLORS, LineChart } from './charts.jsx';
import { DEVICE_STATUSES, controlAvailability, deviceStatus, percent, waveBreakdown } from '../rollout.js';
import { controlRollout } from '../api.js';
import { deviceHref, rolloutHref } from '../hooks.js';
import { formatDateTime, formatTime } from '../format.js';

const STATUS_COLORS = { pending: COLORS.gray, targeted: COLORS.blue, succeeded: COLORS.green, failed: COLORS.red };

export const READ_ONLY_REASON = 'Read-only dashboard: start it with --operator to control rollouts';

function CountsBar({ counts, total }) {
  return (
    <div className="progress" aria-hidden="true">
      {DEVICE_STATUSES.filter((s) => s !== 'pending').map((s) =>
        counts[s] ? (
          <span key={s} className={`progress-${s}`} style={{ width: `${(100 * counts[s]) / Math.max(1, total)}%` }} />
        ) : null,
      )}
    </div>
  );
}

function CountsText({ counts }) {
  return (
    <span className="counts-text">
      {DEVICE_STATUSES.map((s) => (
        <span key={s} className={`ct ct-${s}`}>
          {counts?.[s] ?? 0} {s}
        </span>
      ))}
    </span>
  );
}

export function RolloutsView({ rollouts, loaded }) {
  return (
    <section className="card">
      <div className="card-head">
        <h2>Rollouts</h2>
        <span className="muted">newest first</span>
      </div>
      {rollouts.length === 0 ? (
        <p className="empty">{loaded ? 'no rollouts yet: start one with edgectl rollout start' : 'loading…'}</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>rollout</th>
              <th>model</th>
              <th>state</th>
              <th>wave</th>
              <th>progress</th>
              <th>updated</th>
            </tr>
          </thead>
          <tbody>
            {rollouts.map((r) => {
              const total = r.targets?.length ?? 0;
              return (
                <tr key={r.id} data-testid={`rollout-row-${r.id}`}>
                  <td>
                    <a href={rolloutHref(r.id)} className="strong">
                      {r.id}
                    </a>
                    {r.group ? <div className="muted small">group {r.group}</div> : null}
                  </td>
                  <td className="nowrap">
                    {r.model}
                    <span className="muted">@{r.version}</span>
                  </td>
                  <td>
                    <Badge value={r.state} />
                  </td>
                  <td className="nowrap">
                    {r.currentWave ?? 0} / {r.waveSizes?.length ?? 0}
                  </td>
                  <td className="progress-cell">
                    <CountsBar counts={r.counts ?? {}} total={total} />
                    <CountsText counts={r.counts} />
                  </td>
                  <td className="nowrap mono-sm">{formatDateTime(r.updated)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

const OPS = {
  pause: { label: 'Pause', text: 'Targeted devices keep their state; no further wave starts until the rollout is resumed.' },
  resume: { label: 'Resume', text: 'The rollout goes on from the wave it stopped at.' },
  abort: {
    label: 'Abort',
    text: 'The rollout stops for good and targeted devices get their previous desired state back.',
    danger: true,
  },
};

function Controls({ rollout, readOnly, onUpdated }) {
  const [asking, setAsking] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const why = controlAvailability(rollout.state);
  const confirm = async () => {
    const op = asking;
    setBusy(true);
    setError(null);
    try {
      const updated = await controlRollout(rollout.id, op);
      onUpdated?.(updated);
      setAsking(null);
    } catch (e) {
      setError(`${OPS[op].label} failed: ${e.message}`);
      setAsking(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="controls">
      <div className="btn-row">
        {Object.entries(OPS).map(([op, o]) => {
          const reason = readOnly ? READ_ONLY_REASON : why[op];
          return (
            <span key={op} title={reason ?? `${o.label} rollout ${rollout.id}`} className="btn-wrap">
              <button
                type="button"
                className={`btn ${o.danger ? 'btn-danger' : ''}`}
                data-testid={`btn-${op}`}
                disabled={!!reason}
                onClick={() => {
                  setError(null);
                  setAsking(op);
                }}
              >
                {o.label}
              </button>
            </span>
          );
        })}
      </div>
      {readOnly && <p className="note">{READ_ONLY_REASON}.</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {asking && (
        <ConfirmDialog
          title={`${OPS[asking].label} rollout ${rollout.id}?`}
          message={`${rollout.model}@${rollout.version}: ${OPS[asking].text}`}
          confirmLabel={OPS[asking].label}
          danger={OPS[asking].danger}
          busy={busy}
          onConfirm={confirm}
          onCancel={() => !busy && setAsking(null)}
        />
      )}
    </div>
  );
}

function Timeline({ timeline }) {
  const points = timeline ?? [];
  return (
    <LineChart
      title="Devices by status over time"
      labels={points.map((p) => formatTime(p.t))}
      series={['succeeded', 'targeted', 'failed', 'pending'].map((s) => ({
        label: s,
        data: points.map((p) => p.counts?.[s] ?? 0),
        color: STATUS_COLORS[s],
      }))}
      height={220}
      testId="rollout-timeline"
    />
  );
}

function Wave({ wave, current, devices }) {
  const total = wave.devices.length;
  const failed = wave.devices.filter((id) => deviceStatus(devices[id]) === 'failed');
  return (
    <div className={`wave ${current ? 'wave-current' : ''}`} data-testid={`wave-${wave.n}`}>
      <div className="wave-head">
        <strong>Wave {wave.n}</strong>
        <span className="muted small">
          plan {wave.plan} · {total} device{total === 1 ? '' : 's'}
        </span>
        {current && <span className="pill">current</span>}
      </div>
      <CountsBar counts={wave.counts} total={total} />
      <CountsText counts={wave.counts} />
      {failed.length > 0 && (
        <ul className="failed-list">
          {failed.slice(0, 5).map((id) => (
            <li key={id}>
              <a href={deviceHref(id)}>{id}</a>
              {devices[id]?.reason ? <span className="muted">: {devices[id].reason}</span> : null}
            </li>
          ))}
          {failed.length > 5 && <li className="muted">and {failed.length - 5} more</li>}
        </ul>
      )}
    </div>
  );
}

export function RolloutDetail({ rollout, readOnly, loaded, onUpdated, id }) {
  if (!rollout) {
    return (
      <section className="card">
        <p className="empty">{loaded ? `no rollout '${id}' is known to this dashboard` : 'loading…'}</p>
        <a href="#/rollouts">← all rollouts</a>
      </section>
    );
  }
  const waves = waveBreakdown(rollout);
  const total = rollout.targets?.length ?? 0;
  return (
    <>
      <section className="card">
        <div className="crumbs">
          <a href="#/rollouts">Rollouts</a> / {rollout.id}
        </div>
        <div className="detail-head">
          <h2>
            {rollout.id} <Badge value={rollout.state} testId="rollout-state" />
          </h2>
          <Controls rollout={rollout} readOnly={readOnly} onUpdated={onUpdated} />
        </div>
        {rollout.reason && <p className="reason">{rollout.reason}</p>}
        <dl className="facts">
          <div>
            <dt>model</dt>
            <dd>
              {rollout.model}@{rollout.version}
            </dd>
          </div>
          <div>
            <dt>targets</dt>
            <dd>
              {total}
              {rollout.group ? ` (group ${rollout.group})` : ''}
            </dd>
          </div>
          <div>
            <dt>wave</dt>
            <dd>
              {rollout.currentWave ?? 0} of {waves.length} ({(rollout.waves ?? []).join(', ')})
            </dd>
          </div>
          <div>
            <dt>success threshold</dt>
            <dd title="share of a wave's devices that must succeed before the next wave starts">
              {percent(rollout.successThreshold)} per wave
            </dd>
          </div>
          <div>
            <dt>abort threshold</dt>
            <dd title="the rollout aborts when more than this share of the devices targeted so far failed">
              &gt; {percent(rollout.abortThreshold)} failed
            </dd>
          </div>
          <div>
            <dt>wave timeout</dt>
            <dd>{rollout.waveTimeoutSeconds != null ? `${rollout.waveTimeoutSeconds} s` : '—'}</dd>
          </div>
          <div>
            <dt>probation</dt>
            <dd>{rollout.probationSeconds != null ? `${rollout.probationSeconds} s` : "device's own"}</dd>
          </div>
          <div>
            <dt>driver</dt>
            <dd>{rollout.driver ?? <span className="muted">none</span>}</dd>
          </div>
          <div>
            <dt>updated</dt>
            <dd>
              {formatDateTime(rollout.updated)} (rev {rollout.revision ?? 0})
            </dd>
          </div>
        </dl>
        <div className="overall">
          <CountsBar counts={rollout.counts ?? {}} total={total} />
          <CountsText counts={rollout.counts} />
        </div>
      </section>
      <div className="grid-2">
        <section className="card">
          <h3>Waves</h3>
          {waves.length === 0 ? (
            <p className="empty">no waves planned</p>
          ) : (
            <div className="waves">
              {waves.map((w) => (
                <Wave key={w.n} wave={w} current={w.n === rollout.currentWave} devices={rollout.devices ?? {}} />
              ))}
            </div>
          )}
        </section>
        <section className="card">
          <h3>Timeline</h3>
          <Timeline timeline={rollout.timeline} />
        </section>
      </div>
    </>
  );
}
