import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** CSS custom property holding the colour, e.g. `--chart-1`. */
  readonly color: string;
  readonly bars?: boolean;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** A time-series chart drawn by uPlot (canvas; styles set through the CSSOM, so the CSP holds). */
export function TimeChart(props: {
  title: string;
  x: readonly string[];
  series: readonly ChartSeries[];
  yLabel: string;
  format?: (v: number) => string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [
      props.x.map((iso) => Date.parse(iso) / 1000),
      ...props.series.map((s) => s.values.map((v) => v ?? null)),
    ];
    const axisColor = cssVar('--muted');
    const grid = { stroke: cssVar('--border'), width: 1 };
    const fmt = props.format ?? ((v: number) => String(v));
    const plot = new uPlot(
      {
        width: Math.max(260, el.clientWidth),
        height: 220,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: axisColor, grid, ticks: grid },
          {
            stroke: axisColor,
            grid,
            ticks: grid,
            label: props.yLabel,
            values: (_u, ticks) => ticks.map(fmt),
            size: 60,
          },
        ],
        series: [
          {},
          ...props.series.map((s) => {
            const color = cssVar(s.color);
            return {
              label: s.label,
              stroke: color,
              width: 2,
              spanGaps: true,
              value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)),
              ...(s.bars
                ? { fill: color + '55', paths: uPlot.paths.bars!({ size: [0.6, 40] }) }
                : { points: { show: true, size: 5 } }),
            };
          }),
        ],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(260, el.clientWidth), height: 220 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.yLabel]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={props.title} />
    </figure>
  );
}

/** Horizontal bars for counts by key (plain HTML: readable by screen readers as a list). */
export function BarList(props: { label: string; items: readonly { key: string; count: number }[] }) {
  const max = Math.max(1, ...props.items.map((i) => i.count));
  return (
    <ul class="bars" aria-label={props.label}>
      {props.items.map((i) => (
        <li key={i.key}>
          <span class="bar-key">{i.key}</span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-fill" style={{ width: `${(i.count / max) * 100}%` }} />
          </span>
          <span class="bar-value">{i.count}</span>
        </li>
      ))}
    </ul>
  );
}
