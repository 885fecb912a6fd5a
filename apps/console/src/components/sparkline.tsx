/** Counts per hour over the last 24 hours, oldest first. */
export function bucketByHour(timestamps: string[], now = Date.now()): number[] {
  const buckets = new Array<number>(24).fill(0);
  for (const stamp of timestamps) {
    const age = Math.floor((now - new Date(stamp).getTime()) / 3_600_000);
    if (age >= 0 && age < 24) buckets[23 - age]! += 1;
  }
  return buckets;
}

/** A tiny SVG bar chart (no chart library on the first load). */
export function Sparkline({ points, label }: { points: number[]; label: string }) {
  const max = Math.max(1, ...points);
  const width = 240;
  const height = 48;
  const bar = width / points.length;
  return (
    <svg
      role="img"
      aria-label={`${label}: ${points.join(', ')}`}
      width={width}
      height={height}
      className="spark"
    >
      {points.map((value, index) => {
        const h = (value / max) * (height - 2);
        return <rect key={index} x={index * bar + 1} y={height - h} width={bar - 2} height={h} />;
      })}
    </svg>
  );
}
