import { Badge } from './Badge.jsx';
import { deviceHref } from '../hooks.js';
import { formatDateTime } from '../format.js';

export function AlertList({ alerts, limit, emptyText = 'no alerts' }) {
  const shown = limit ? alerts.slice(0, limit) : alerts;
  if (shown.length === 0) return <p className="empty">{emptyText}</p>;
  return (
    <table className="table alerts">
      <thead>
        <tr>
          <th>when</th>
          <th>severity</th>
          <th>device</th>
          <th>model</th>
          <th>what</th>
          <th>status</th>
        </tr>
      </thead>
      <tbody>
        {shown.map((a) => (
          <tr key={a.id} data-testid="alert-row" className={a.active ? '' : 'row-muted'}>
            <td className="nowrap mono-sm">{formatDateTime(a.at)}</td>
            <td>
              <Badge value={a.severity} />
            </td>
            <td className="nowrap">
              <a href={deviceHref(a.device)}>{a.device}</a>
            </td>
            <td className="nowrap">
              {a.model}
              {a.version ? <span className="muted">@{a.version}</span> : null}
            </td>
            <td>
              <span className="kind">{a.kind}</span> {a.message}
            </td>
            <td>{a.active ? <Badge value={a.severity}>active</Badge> : <Badge value="cleared" />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AlertsView({ alerts }) {
  const active = alerts.filter((a) => a.active).length;
  return (
    <section className="card">
      <div className="card-head">
        <h2>Alerts</h2>
        <span className="muted">
          {alerts.length} shown, {active} active · newest first
        </span>
      </div>
      <AlertList alerts={alerts} emptyText="no alerts yet: drift alerts and failed or rolled-back deployments show here" />
    </section>
  );
}
