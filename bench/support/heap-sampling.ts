/**
 * Loaded with `--import` into a benchmarked process when BENCH_HEAP_PROF=DIR is set: V8's sampling heap profiler,
 * keeping the samples of objects already collected (so it counts every allocation, not what is still alive), from
 * the first HTTP request the process serves to its exit; written to DIR/heap.<pid>.json with the number of requests
 * served meanwhile. bench/profile.ts turns it into bytes allocated per request, by group.
 */
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_HEAP_PROF;
/** One sample per 16 KiB allocated on average (V8's default is 32 KiB): enough for µs-scale paths over a run. */
const SAMPLING_INTERVAL = 16 * 1024;

if (dir) {
  const session = new inspector.Session();
  session.connect();
  let requests = 0;
  diagnostics.subscribe('http.server.request.start', () => {
    if (requests++ === 0)
      session.post('HeapProfiler.startSampling', {
        samplingInterval: SAMPLING_INTERVAL,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
  });
  process.on('exit', () => {
    if (requests === 0) return;
    // A session on the process's own thread answers synchronously, so this runs to the end before the exit.
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) return;
      fs.writeFileSync(
        path.join(dir, `heap.${process.pid}.json`),
        JSON.stringify({ requests, samplingInterval: SAMPLING_INTERVAL, profile: result.profile }),
      );
    });
  });
}
