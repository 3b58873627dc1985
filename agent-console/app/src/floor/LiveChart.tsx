import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
}

/**
 * A small live line chart (uPlot draws on a canvas; the figure's label carries the latest values
 * for screen readers, and the same figures are in the tables beside it).
 */
export function LiveChart(props: { title: string; times: number[]; series: ChartSeries[]; height?: number; yRange?: [number, number]; summary: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const height = props.height ?? 140;

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: props.yRange ? { range: props.yRange } : { range: (_u, _min, max) => [0, Math.max(2, Math.ceil(max * 1.2))] } },
      axes: [
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e5ea' }, font: '11px system-ui, sans-serif' },
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e5ea' }, font: '11px system-ui, sans-serif', size: 36 },
      ],
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: `${s.color}1f`, spanGaps: true, points: { show: false } }))],
    };
    plot.current = new uPlot(options, [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData, element);
    const observer = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.series.length]);

  useEffect(() => {
    plot.current?.setData([props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.times]);

  return (
    <figure class="chart">
      <figcaption class="chart__title">{props.title}</figcaption>
      <div ref={host} class="chart__canvas" role="img" aria-label={`${props.title}: ${props.summary}`} />
    </figure>
  );
}
