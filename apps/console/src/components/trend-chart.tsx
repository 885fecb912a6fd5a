import { DECISIONS } from '../../../../libs/contracts/src/index.js';
import type { AuditTrendsView } from '../lib/types';

/**
 * Runtime decisions per UTC day as stacked SVG bars (one colour per decision, no chart library on the first load),
 * open findings per day as a line over them, and the same numbers as a table for screen readers and copying.
 */
export function TrendChart({ trends }: { trends: AuditTrendsView }) {
  const { series } = trends;
  const width = 720;
  const height = 120;
  const max = Math.max(1, ...series.map((d) => d.total));
  const maxOpen = Math.max(1, ...series.map((d) => d.open_findings));
  const bar = width / series.length;
  const total = series.reduce((sum, d) => sum + d.total, 0);
  const line = series
    .map(
      (d, i) =>
        `${(i * bar + bar / 2).toFixed(1)},${(height - (d.open_findings / maxOpen) * (height - 4)).toFixed(1)}`,
    )
    .join(' ');
  return (
    <figure className="trend">
      <svg
        role="img"
        aria-label={`Runtime decisions per day from ${trends.from} to ${trends.to}: ${total} in all`}
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        className="trend-chart"
      >
        {series.map((day, index) => {
          let y = height;
          return (
            <g key={day.day} data-day={day.day}>
              <title>
                {`${day.day}: ${day.total} decisions` +
                  DECISIONS.filter((d) => day.decisions[d])
                    .map((d) => `, ${d} ${day.decisions[d]}`)
                    .join('') +
                  `; ${day.open_findings} open findings`}
              </title>
              <rect className="trend-day" x={index * bar} y={0} width={bar} height={height} />
              {DECISIONS.filter((d) => day.decisions[d]).map((decision) => {
                const h = (day.decisions[decision] / max) * (height - 4);
                y -= h;
                return (
                  <rect
                    key={decision}
                    className={`trend-${decision}`}
                    x={index * bar + 1}
                    y={y}
                    width={Math.max(1, bar - 2)}
                    height={h}
                  />
                );
              })}
            </g>
          );
        })}
        <polyline className="trend-open" points={line} />
      </svg>
      <figcaption className="legend small">
        {DECISIONS.map((decision) => (
          <span key={decision}>
            <span className={`dot trend-${decision}`} aria-hidden="true" /> {decision}
          </span>
        ))}
        <span>
          <span className="dash trend-open" aria-hidden="true" /> open findings (max {maxOpen})
        </span>
        <span className="muted">
          {trends.from} → {trends.to} (UTC) · highest day {max}
        </span>
      </figcaption>
      <details>
        <summary>Numbers per day</summary>
        <table className="grid small">
          <caption className="sr-only">Runtime decisions and open findings per UTC day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {DECISIONS.map((decision) => (
                <th scope="col" key={decision}>
                  {decision}
                </th>
              ))}
              <th scope="col">total</th>
              <th scope="col">open findings</th>
            </tr>
          </thead>
          <tbody>
            {[...series].reverse().map((day) => (
              <tr key={day.day}>
                <th scope="row">{day.day}</th>
                {DECISIONS.map((decision) => (
                  <td key={decision}>{day.decisions[decision]}</td>
                ))}
                <td>{day.total}</td>
                <td>{day.open_findings}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
