// `npm run bench`: every benchmark in one run, printed for the README. Not tests: figures on a
// shared 2-core machine vary, so targets are compared here, never asserted in the test suite.
// BENCH_ONLY=supervisor,soak,log,buffers,reaper,http,registry picks some; BENCH_RESTARTS sets the
// respawn count, BENCH_SOAK_RESTARTS the restart soak's (default 10,000).
import { benchHttp, formatHttpBench } from './http.js';
import { benchLogThroughput, formatThroughput } from './log-throughput.js';
import { benchLogs, formatLogsBench } from './logs.js';
import { benchReaper, formatReaperTable } from './reaper.js';
import { benchRestartSoak, formatRestartSoak } from './restart-soak.js';
import { benchSupervisor } from './supervisor.js';

const only = new Set((process.env.BENCH_ONLY ?? 'supervisor,soak,log,buffers,reaper,http').split(','));
const section = (title: string) => console.log(`\n=== ${title} ===`);

if (only.has('supervisor')) {
  section('supervision core: crash-to-respawn, idle cost, shutdown');
  const result = await benchSupervisor({ restarts: Number(process.env.BENCH_RESTARTS ?? 50) });
  const { s7supervisor, bashLoop } = result.respawn;
  console.log(
    `crash-to-respawn (${s7supervisor.restarts} restarts, 1.5 s lives): s7supervisor p50 ${s7supervisor.p50Ms} ms, p99 ${s7supervisor.p99Ms} ms` +
      `  |  bash while-loop floor p50 ${bashLoop.p50Ms} ms, p99 ${bashLoop.p99Ms} ms   (target p50 < 5 ms)`,
  );
  for (const idle of result.idle)
    console.log(
      `idle with ${idle.components} components: RSS ${idle.rssMB} MB, CPU ${idle.cpuPercentOfOneCore}% of one core` +
        `   (target RSS < ${idle.components > 3 ? 80 : 60} MB)`,
    );
  const s = result.shutdown;
  console.log(
    `shutdown of ${s.components} components that exit ${s.exitAfterTermMs} ms after SIGTERM: median ${s.medianMs} ms, max ${s.maxMs} ms over ${s.runs} runs   (target < 250 ms)`,
  );
}
if (only.has('soak')) {
  section('restart soak: 3 components crash-looping with zero backoff');
  const soak = await benchRestartSoak({ restarts: Number(process.env.BENCH_SOAK_RESTARTS ?? 10_000) });
  console.log(formatRestartSoak(soak));
  console.log('(targets: descriptors flat, RSS within +40 MB of the start, alive at the end)');
}
if (only.has('log')) {
  section('log throughput through s7supervisor run');
  console.log(formatThroughput(await benchLogThroughput()));
  console.log('(targets: raw >= 300 MB/s, json >= 500,000 lines/s, 0 lost)');
}
if (only.has('buffers')) {
  section('output buffers under load, and logs -n 1000');
  console.log(formatLogsBench(await benchLogs()));
}
if (only.has('reaper')) {
  section('orphan reaping as PID 1 (beside tini)');
  const { tiniVersion, figures } = await benchReaper();
  console.log(`tini: ${tiniVersion}`);
  console.log(formatReaperTable(figures));
  console.log('(target: within 1.5x of tini)');
}
if (only.has('http')) {
  section('HTTP endpoints');
  console.log(formatHttpBench(await benchHttp()));
  console.log(
    '(targets: /readyz >= 5,000 req/s with p99 < 10 ms; /metrics with 100 components p99 < 50 ms; 100 idle components < 1% of a core)',
  );
}
