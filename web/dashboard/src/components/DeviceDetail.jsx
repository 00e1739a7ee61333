import { useEffect, useMemo, useReducer, useState } from 'react';
import { Badge } from './Badge.jsx';
import { BarChart, COLORS, LineChart } from './charts.jsx';
import { detailReducer, heartbeatAge } from '../state.js';
import { histogramData } from '../histogram.js';
import { STATS, defaultFeature, driftModels, entriesOf, findEntry, modelWindows, thresholdLines } from '../drift.js';
import { getJson } from '../api.js';
import { formatAge, formatBytes, formatDateTime, formatNumber, formatTime } from '../format.js';

function reduce(state, action) {
  if (action.type === 'loaded') return { detail: action.detail, error: null };
  if (action.type === 'failed') return { detail: null, error: action.error };
  return state.detail ? { ...state, detail: detailReducer(state.detail, action) } : state;
}

/** Errors per heartbeat from the running totals (a smaller total means the agent restarted). */
export function errorDeltas(points) {
  return points.map((p, i) => {
    if (i === 0 || p.errors == null || points[i - 1].errors == null) return null;
    const d = p.errors - points[i - 1].errors;
    return d >= 0 ? d : p.errors;
  });
}

function HealthCharts({ health }) {
  const labels = health.map((p) => formatTime(p.t));
  const col = (k, scale = 1) => health.map((p) => (p[k] == null ? null : p[k] * scale));
  return (
    <div className="chart-grid">
      <LineChart title="Inference rate (req/s)" labels={labels} series={[{ label: 'req/s', data: col('inferenceRate'), color: COLORS.blue, fill: true }]} />
      <LineChart
        title="Latency (ms)"
        labels={labels}
        series={[
          { label: 'p50', data: col('p50Ms'), color: COLORS.green },
          { label: 'p95', data: col('p95Ms'), color: COLORS.amber },
          { label: 'p99', data: col('p99Ms'), color: COLORS.red },
        ]}
      />
      <LineChart title="Errors per heartbeat" labels={labels} series={[{ label: 'errors', data: errorDeltas(health), color: COLORS.red, fill: true }]} />
      <LineChart title="CPU (% of machine)" labels={labels} series={[{ label: 'CPU %', data: col('cpuPercent'), color: COLORS.violet }]} />
      <LineChart title="RSS (MiB)" labels={labels} series={[{ label: 'RSS MiB', data: col('rssBytes', 1 / 1048576), color: COLORS.teal }]} />
      <LineChart title="Outbox depth (records)" labels={labels} series={[{ label: 'records', data: col('outboxDepth'), color: COLORS.gray, fill: true }]} />
    </div>
  );
}

function Summary({ row, now }) {
  const age = heartbeatAge(row, now);
  return (
    <>
      <dl className="facts">
        <div>
          <dt>state</dt>
          <dd>
            <Badge value={row.state} /> {row.healthy === false ? <Badge value="error">unhealthy</Badge> : null}
          </dd>
        </div>
        <div>
          <dt>last heartbeat</dt>
          <dd title={row.lastHeartbeat ?? ''}>
            {age == null ? 'never' : `${formatAge(age)} ago`}
            {row.heartbeatIntervalSeconds ? <span className="muted"> (every {row.heartbeatIntervalSeconds} s)</span> : null}
          </dd>
        </div>
        <div>
          <dt>agent</dt>
          <dd>{row.agentVersion ?? '—'}</dd>
        </div>
        <div>
          <dt>type</dt>
          <dd>{row.deviceType ?? '—'}</dd>
        </div>
        <div>
          <dt>groups</dt>
          <dd>{(row.groups ?? []).join(', ') || '—'}</dd>
        </div>
        <div>
          <dt>CPU</dt>
          <dd>{row.cpuPercent != null ? `${formatNumber(row.cpuPercent, 1)}%` : '—'}</dd>
        </div>
        <div>
          <dt>RSS</dt>
          <dd>{formatBytes(row.rssBytes)}</dd>
        </div>
        <div>
          <dt>outbox</dt>
          <dd>{row.outboxDepth ?? '—'}</dd>
        </div>
      </dl>
      {row.models?.length ? (
        <table className="table compact">
          <thead>
            <tr>
              <th>model</th>
              <th>serving</th>
              <th>target</th>
              <th>state</th>
              <th>reason</th>
            </tr>
          </thead>
          <tbody>
            {row.models.map((m) => (
              <tr key={m.name}>
                <td className="strong">{m.name}</td>
                <td className="mono-sm">{m.activeVersion ?? '—'}</td>
                <td className="mono-sm">{m.version ?? '—'}</td>
                <td>
                  <Badge value={m.state} />
                </td>
                <td className="small">{m.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="empty">no models deployed</p>
      )}
    </>
  );
}

function Events({ events }) {
  const list = [...events].reverse();
  if (list.length === 0) return <p className="empty">no deployment events yet</p>;
  return (
    <div className="scroll">
      <table className="table compact">
        <thead>
          <tr>
            <th>when</th>
            <th>type</th>
            <th>model</th>
            <th>state</th>
            <th>reason</th>
          </tr>
        </thead>
        <tbody>
          {list.map((e, i) => (
            <tr key={`${e.seq ?? ''}-${e.timestamp ?? ''}-${i}`} data-testid="event-row">
              <td className="nowrap mono-sm">{formatDateTime(e.timestamp)}</td>
              <td>{e.type}</td>
              <td className="nowrap">
                {e.model ?? ''}
                {e.version !== undefined && e.version !== '' ? <span className="muted">@{e.version}</span> : null}
              </td>
              <td>{e.state ? <Badge value={e.state} /> : null}</td>
              <td className="small">{e.reason ?? e.topic ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const STAT_NAMES = { psi: 'PSI', js: 'Jensen-Shannon', ks: 'Kolmogorov-Smirnov' };

export function DriftSection({ windows, baselines }) {
  const models = useMemo(() => driftModels(windows, baselines), [windows, baselines]);
  const [picked, setPicked] = useState(null);
  const model = picked && models.includes(picked) ? picked : models[0];
  const series = useMemo(() => (model ? modelWindows(windows, model) : []), [windows, model]);
  const latest = series[series.length - 1] ?? null;
  const baseline = baselines?.[model] ?? null;
  const [pickedFeature, setFeature] = useState(null);
  const names = entriesOf(latest ?? baseline).map((e) => e.name);
  const feature = pickedFeature && names.includes(pickedFeature) ? pickedFeature : defaultFeature(latest, baseline);

  if (!model) return <p className="empty">no drift monitoring on this device (no model with a drift baseline has reported)</p>;

  const labels = series.map((w) => formatTime(w.t));
  const hist = histogramData(findEntry(baseline, feature), findEntry(latest, feature));
  return (
    <div className="drift">
      <div className="drift-controls">
        {models.length > 1 && (
          <label className="filter">
            <span>model</span>
            <select aria-label="drift model" value={model} onChange={(e) => setPicked(e.target.value)}>
              {models.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
        )}
        {models.length === 1 && <span className="strong">{model}</span>}
        <label className="filter">
          <span>feature</span>
          <select aria-label="feature" value={feature ?? ''} onChange={(e) => setFeature(e.target.value)}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        {latest && (
          <span className="muted small">
            latest window {formatDateTime(latest.t)}: <Badge value={latest.state} /> {latest.count} values
          </span>
        )}
      </div>
      {!baseline && <p className="note">The manifest of {model} was not seen, so thresholds and the baseline histogram are unknown.</p>}
      <div className="chart-grid">
        {STATS.map((s) => (
          <LineChart
            key={s}
            title={`${STAT_NAMES[s]} — ${feature ?? ''}`}
            labels={labels}
            series={[
              { label: s.toUpperCase(), data: series.map((w) => findEntry(w, feature)?.[s] ?? null), color: COLORS.blue },
              ...thresholdLines(baseline, s).map((t) => ({
                label: t.label,
                data: labels.map(() => t.value),
                color: t.kind === 'raise' ? COLORS.red : COLORS.amber,
                dashed: true,
              })),
            ]}
            height={170}
            testId={`drift-${s}`}
          />
        ))}
      </div>
      <div className="grid-2">
        <div>
          {hist ? (
            <>
              <BarChart
                title={`${feature}: baseline vs latest window`}
                labels={hist.labels}
                series={[
                  { label: 'baseline', data: hist.baseline, color: '#94a3b8' },
                  ...(hist.current ? [{ label: `latest window (${hist.total})`, data: hist.current, color: COLORS.blue }] : []),
                ]}
                percent
                testId="drift-histogram"
              />
              {hist.note && <p className="note">{hist.note}</p>}
            </>
          ) : (
            <p className="empty">no baseline histogram for {feature ?? 'this feature'}</p>
          )}
        </div>
        <div>
          {latest ? (
            <table className="table compact">
              <thead>
                <tr>
                  <th>entry</th>
                  <th className="num">PSI</th>
                  <th className="num">JS</th>
                  <th className="num">KS</th>
                  <th>state</th>
                </tr>
              </thead>
              <tbody>
                {entriesOf(latest).map((e) => (
                  <tr key={e.name} className={`clickable ${e.name === feature ? 'row-selected' : ''}`} onClick={() => setFeature(e.name)}>
                    <td className="mono-sm">{e.name}</td>
                    <td className="num">{formatNumber(e.psi, 3)}</td>
                    <td className="num">{formatNumber(e.js, 3)}</td>
                    <td className="num">{formatNumber(e.ks, 3)}</td>
                    <td>
                      <Badge value={e.state} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="empty">no drift window yet</p>
          )}
        </div>
      </div>
    </div>
  );
}

export function DeviceDetail({ id, liveRow, subscribe, now }) {
  const [state, dispatch] = useReducer(reduce, { detail: null, error: null });
  // A `snapshot` event means the stream (re)connected: events may have been missed, so load the device again.
  const [generation, setGeneration] = useState(0);
  useEffect(
    () =>
      subscribe?.((action) => {
        if (action.type === 'snapshot') setGeneration((g) => g + 1);
        else dispatch(action);
      }),
    [subscribe],
  );
  useEffect(() => {
    let stale = false;
    getJson(`/api/devices/${encodeURIComponent(id)}`)
      .then((detail) => !stale && dispatch({ type: 'loaded', detail }))
      .catch(
        (e) =>
          !stale &&
          dispatch({ type: 'failed', error: e.status === 404 ? `no device '${id}' is known to this dashboard` : e.message }),
      );
    return () => {
      stale = true;
    };
  }, [id, generation]);

  const { detail, error } = state;
  const row = liveRow ?? detail?.row;
  return (
    <>
      <section className="card">
        <div className="crumbs">
          <a href="#/">Fleet</a> / {id}
        </div>
        <h2>{id}</h2>
        {error && <p className="error">{error}</p>}
        {!error && !row && <p className="empty">loading…</p>}
        {row && <Summary row={row} now={now} />}
      </section>
      {detail && (
        <>
          <section className="card">
            <h3>Health</h3>
            {detail.health?.length ? <HealthCharts health={detail.health} /> : <p className="empty">no heartbeats received yet</p>}
          </section>
          <section className="card">
            <h3>Drift</h3>
            <DriftSection windows={detail.drift ?? []} baselines={detail.baselines ?? {}} />
          </section>
          <section className="card">
            <h3>Deployment events</h3>
            <Events events={detail.events ?? []} />
          </section>
        </>
      )}
    </>
  );
}
