import {
  Chart as ChartJS,
  CategoryScale,
  LinearScale,
  PointElement,
  LineElement,
  BarElement,
  Filler,
  Legend,
  Tooltip,
} from 'chart.js';
import { Bar, Line } from 'react-chartjs-2';

ChartJS.register(CategoryScale, LinearScale, PointElement, LineElement, BarElement, Filler, Legend, Tooltip);
ChartJS.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
ChartJS.defaults.font.size = 11;
ChartJS.defaults.color = '#4b5563';

export const COLORS = {
  blue: '#2563eb',
  green: '#16a34a',
  amber: '#d97706',
  red: '#dc2626',
  gray: '#9ca3af',
  violet: '#7c3aed',
  teal: '#0d9488',
};

const baseOptions = (yTitle, legend) => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  interaction: { mode: 'index', intersect: false },
  plugins: { legend: { display: legend, position: 'bottom', labels: { boxWidth: 12 } } },
  scales: {
    x: { ticks: { maxTicksLimit: 6, maxRotation: 0 }, grid: { display: false } },
    y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle }, ticks: { maxTicksLimit: 5 } },
  },
});

/** A line chart; series: [{label, data, color, dashed?, fill?}]. */
export function LineChart({ title, labels, series, yTitle, height = 180, legend = series.length > 1, testId }) {
  const data = {
    labels,
    datasets: series.map((s) => ({
      label: s.label,
      data: s.data,
      borderColor: s.color,
      backgroundColor: s.fill ? `${s.color}33` : s.color,
      borderWidth: s.dashed ? 1.5 : 2,
      borderDash: s.dashed ? [6, 4] : undefined,
      pointRadius: s.dashed || labels.length > 40 ? 0 : 2,
      fill: !!s.fill,
      stack: s.stack,
      tension: 0.2,
      spanGaps: true,
    })),
  };
  const options = baseOptions(yTitle, legend);
  if (series.some((s) => s.stack)) options.scales.y.stacked = true;
  return (
    <figure className="chart" data-testid={testId}>
      {title && <figcaption>{title}</figcaption>}
      <div className="chart-canvas" style={{ height }}>
        {labels.length === 0 ? <p className="empty">no data yet</p> : <Line data={data} options={options} />}
      </div>
    </figure>
  );
}

/** A grouped bar chart; series: [{label, data, color}]. */
export function BarChart({ title, labels, series, yTitle, height = 220, testId, percent }) {
  const data = {
    labels,
    datasets: series.map((s) => ({ label: s.label, data: s.data, backgroundColor: s.color, borderRadius: 2 })),
  };
  const options = baseOptions(yTitle, true);
  options.interaction = { mode: 'index', intersect: false };
  if (percent) {
    options.scales.y.ticks.callback = (v) => `${Math.round(v * 100)}%`;
    options.plugins.tooltip = { callbacks: { label: (c) => `${c.dataset.label}: ${(c.parsed.y * 100).toFixed(1)}%` } };
  }
  return (
    <figure className="chart" data-testid={testId}>
      {title && <figcaption>{title}</figcaption>}
      <div className="chart-canvas" style={{ height }}>
        <Bar data={data} options={options} />
      </div>
    </figure>
  );
}
