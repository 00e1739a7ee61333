import { afterEach, vi } from 'vitest';
import { cleanup } from '@testing-library/react';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

// jsdom has no canvas: charts render as elements that carry their data, so tests can read what would be drawn.
vi.mock('react-chartjs-2', () => {
  const stub = (kind) =>
    function ChartStub({ data }) {
      return (
        <div data-chart={kind} data-labels={JSON.stringify(data.labels)}>
          {data.datasets.map((d) => (
            <span key={d.label} data-series={d.label} data-values={JSON.stringify(d.data)} />
          ))}
        </div>
      );
    };
  return { Line: stub('line'), Bar: stub('bar') };
});
