// A small line of a metric per day for the KPI cards: plain SVG, so a server
// component can draw it. Null days are gaps (the line breaks there), the last
// day with a value is dotted, a flat series sits at mid-height. The picture is
// labelled as a whole (role="img"); the card writes the numbers in text.
import styles from './charts.module.css';

const TONE_CLASS = { good: styles.sparkGood, bad: styles.sparkBad, neutral: styles.sparkNeutral } as const;

/** Room kept around the line so the end dot and the stroke are not clipped. */
const PAD = 2.5;

export function Sparkline({
  values,
  tone,
  label,
  width = 96,
  height = 28,
}: {
  values: (number | null)[];
  tone: 'good' | 'bad' | 'neutral';
  label: string;
  width?: number;
  height?: number;
}) {
  const finite = values.map((v) => (v !== null && Number.isFinite(v) ? v : null));
  const present = finite.filter((v): v is number => v !== null);
  const svgProps = {
    role: 'img' as const,
    'aria-label': label,
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    className: `${styles.sparkline} ${TONE_CLASS[tone]}`,
  };
  if (present.length === 0) return <svg {...svgProps} />;

  const min = Math.min(...present);
  const max = Math.max(...present);
  const n = finite.length;
  const x = (i: number) => (n === 1 ? width / 2 : PAD + (i * (width - 2 * PAD)) / (n - 1));
  const y = (v: number) => (max === min ? height / 2 : PAD + ((max - v) * (height - 2 * PAD)) / (max - min));

  // Runs of consecutive days with a value; a run of one day is a dot.
  const runs: { i: number; v: number }[][] = [];
  let run: { i: number; v: number }[] = [];
  finite.forEach((v, i) => {
    if (v === null) {
      if (run.length) runs.push(run);
      run = [];
    } else run.push({ i, v });
  });
  if (run.length) runs.push(run);

  const lastIndex = finite.findLastIndex((v) => v !== null);
  const last = finite[lastIndex] ?? null;
  return (
    <svg {...svgProps}>
      {runs.map((pts) =>
        pts.length === 1 ? (
          <circle key={pts[0]!.i} cx={x(pts[0]!.i)} cy={y(pts[0]!.v)} r={1} fill="currentColor" />
        ) : (
          <polyline
            key={pts[0]!.i}
            points={pts.map((p) => `${x(p.i).toFixed(2)},${y(p.v).toFixed(2)}`).join(' ')}
            stroke="currentColor"
          />
        ),
      )}
      {last !== null ? <circle cx={x(lastIndex)} cy={y(last)} r={2} fill="currentColor" /> : null}
    </svg>
  );
}
