// Early signals: SIGTERM while the supervisor is still starting (loading its modules, the
// registry, opening its port, starting components) must give an ordered stop and exit 0, both as
// PID 1 of a PID namespace and as a plain child; in tini mode it must reach the child once the
// child exists (exit 143, as tini gives).
//
// A Node program cannot catch anything before its runtime is up: as PID 1 the kernel drops a
// signal that has no handler, and as a plain child the default action kills it. So the offsets
// count from the moment the supervisor's own handlers are in, which /proc shows: it catches SIGHUP
// (bit 0 of SigCgt; Node catches no SIGHUP of its own). Spawn-to-marker is printed as a figure.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { killAllNamespaces, startInNamespace } from '../helpers/namespace.js';
import { cliPath, makeTempDir } from '../helpers/paths.js';
import { isAlive, killAllStarted, parseRecords, processGroupMembers, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { catchesSighup, median, round } from './chaos.js';

const OFFSETS_MS = [0, 50, 100, 150, 200, 250, 300];
const MARKER_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 20_000;

type Mode = 'pid1' | 'child';
const markerMs: Record<Mode, number[]> = { pid1: [], child: [] };

after(() => {
  killAllStarted();
  killAllNamespaces();
  for (const mode of ['pid1', 'child'] as const) {
    const ms = markerMs[mode];
    if (ms.length > 0)
      console.log(
        `early-signals: spawn -> handlers in (SigCgt SIGHUP), ${mode}: median ${round(median(ms))} ms, min ${round(Math.min(...ms))} ms, max ${round(Math.max(...ms))} ms over ${ms.length} starts`,
      );
  }
});

/** the one child of `pid` (the namespace's PID 1 when pid is unshare), from /proc */
function onlyChild(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return children ? Number(children.split(' ')[0]) : undefined;
  } catch {
    return undefined;
  }
}

interface Started {
  /** the supervisor's pid, as seen from here */
  pid: number;
  stdout: string[];
  stderr: string[];
  exited: Promise<number>;
  /** ms from spawn to the marker */
  markerMs: number;
}

/**
 * Starts `s7supervisor ARGS` as PID 1 of a new namespace or as a plain child and waits (polling
 * /proc every millisecond) until it catches SIGHUP.
 */
async function startSupervisor(mode: Mode, args: string[]): Promise<Started> {
  const t0 = performance.now();
  let handle: { pid: number; stdout: string[]; stderr: string[]; exited: Promise<number> };
  let supervisorPid: () => number | undefined;
  if (mode === 'pid1') {
    const run = startInNamespace([process.execPath, cliPath, ...args]);
    handle = run;
    let inner: number | undefined;
    supervisorPid = () => {
      inner ??= onlyChild(run.pid);
      return inner;
    };
  } else {
    const cli = runCli(args);
    handle = cli;
    supervisorPid = () => cli.pid;
  }
  const deadline = t0 + MARKER_TIMEOUT_MS;
  for (;;) {
    const pid = supervisorPid();
    if (pid !== undefined && catchesSighup(pid)) {
      const ms = performance.now() - t0;
      markerMs[mode].push(ms);
      return { pid, stdout: handle.stdout, stderr: handle.stderr, exited: handle.exited, markerMs: ms };
    }
    if (performance.now() > deadline)
      throw new Error(`no SIGHUP handler after ${MARKER_TIMEOUT_MS} ms:\n${handle.stderr.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function exitWithin(started: Started, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running ${ms} ms after SIGTERM:\n${started.stdout.join('\n')}`)),
      ms,
    );
  });
  try {
    return await Promise.race([started.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM at `offset` ms after the marker; the offset actually achieved */
async function termAt(
  started: Started,
  offset: number,
  t0: number,
): Promise<{ sentAt: number; epochMs: number }> {
  const wait = offset - (performance.now() - t0);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const sentAt = performance.now() - t0;
  const epochMs = Date.now();
  process.kill(started.pid, 'SIGTERM');
  return { sentAt, epochMs };
}

/** ms from the signal to the supervisor's first log record: positive when it came while loading */
function beforeFirstRecord(records: Array<Record<string, unknown>>, epochMs: number): number {
  return Number(records[0]?.time ?? Number.NaN) - epochMs;
}

const msg = (r: Record<string, unknown>) => String(r.msg ?? '');

for (const mode of ['pid1', 'child'] as const) {
  describe(`early SIGTERM, registry mode, ${mode === 'pid1' ? 'as PID 1' : 'as a plain child'}`, () => {
    for (const offset of OFFSETS_MS) {
      test(`SIGTERM ${offset} ms after the handlers are in: ordered stop, exit 0, no component left`, async () => {
        const dir = makeTempDir('s7sup-early-');
        const pidsFile = join(dir, 'pids');
        writeFileSync(pidsFile, '');
        const port = await freePort();
        const home = writeRegistry(
          ['one', 'two'].map((id, i) => ({
            id,
            command: 'sh',
            args: ['-c', `echo $$ >> '${pidsFile}'; exec sleep ${100_000 + i}`],
            priority: i + 1,
            stopTimeout: 5,
          })),
          `<tcpport>${port}</tcpport><host>127.0.0.1</host>`,
        );
        const started = await startSupervisor(mode, ['run', '--home', home, '--log-level', 'info']);
        const { sentAt, epochMs } = await termAt(started, offset, performance.now());
        const code = await exitWithin(started, EXIT_TIMEOUT_MS);
        const records = parseRecords(started.stdout);
        const log = started.stdout.join('\n');
        const lead = beforeFirstRecord(records, epochMs);
        console.log(
          `early-signals ${mode} registry: marker ${round(started.markerMs)} ms, SIGTERM at +${round(sentAt)} ms (${lead > 0 ? `${lead} ms before its first log line` : 'after its first log line'}), exit ${code}, components started ${records.filter((r) => msg(r) === 'component started').length}`,
        );
        // at the marker the supervisor is on the first line of its entry point, with its modules
        // still to load: the held signal is acted on before anything starts (when this process
        // managed to send it at once)
        if (offset === 0 && sentAt < 20)
          assert.equal(
            records.filter((r) => msg(r) === 'component started').length,
            0,
            `a SIGTERM while loading: nothing starts\n${log}`,
          );
        assert.equal(code, 0, `exit code\n${log}\n${started.stderr.join('\n')}`);
        const received = records.findIndex((r) => msg(r) === 'SIGTERM received: stopping');
        assert.ok(received >= 0, `the log says SIGTERM was received\n${log}`);
        assert.ok(
          records.some((r) => msg(r) === 'supervisor exiting' && r.exitCode === 0),
          `supervisor exiting\n${log}`,
        );
        // ordered: whatever had started was stopped by the supervisor (its exit logged), and
        // nothing was started after the signal was taken
        const startedPids = records.filter((r) => msg(r) === 'component started').map((r) => Number(r.pid));
        for (const pid of startedPids)
          assert.ok(
            records.some((r) => msg(r).startsWith('component exited') && Number(r.pid) === pid),
            `component ${pid} was stopped in order\n${log}`,
          );
        assert.equal(
          records.slice(received).filter((r) => msg(r) === 'component started').length,
          0,
          `nothing started after the signal\n${log}`,
        );
        // never a component left running: every process that started as a component is gone, its
        // process group too (as PID 1 these pids are the namespace's, which died with its PID 1).
        // A component SIGTERMed before its shell got to `echo` wrote no pid: a subset, then.
        const pids = readFileSync(pidsFile, 'utf8').split('\n').filter(Boolean).map(Number);
        for (const pid of pids) assert.ok(startedPids.includes(pid), `pid ${pid} was logged as started`);
        if (mode === 'child')
          for (const pid of startedPids) {
            assert.equal(isAlive(pid), false, `component ${pid}`);
            assert.deepEqual(processGroupMembers(pid), [], `process group ${pid}`);
          }
      });
    }
  });

  describe(`early SIGTERM, tini mode, ${mode === 'pid1' ? 'as PID 1' : 'as a plain child'}`, () => {
    for (const offset of OFFSETS_MS) {
      test(`SIGTERM ${offset} ms after the handlers are in reaches the child once started: exit 143`, async () => {
        const started = await startSupervisor(mode, [
          'run',
          '--port',
          '0',
          '--log-level',
          'info',
          '--',
          'sleep',
          '100',
        ]);
        const { sentAt, epochMs } = await termAt(started, offset, performance.now());
        const code = await exitWithin(started, EXIT_TIMEOUT_MS);
        const records = parseRecords(started.stdout);
        const log = started.stdout.join('\n');
        const lead = beforeFirstRecord(records, epochMs);
        console.log(
          `early-signals ${mode} tini: marker ${round(started.markerMs)} ms, SIGTERM at +${round(sentAt)} ms (${lead > 0 ? `${lead} ms before its first log line` : 'after its first log line'}), exit ${code}`,
        );

        assert.equal(code, 143, `the child's death by SIGTERM\n${log}\n${started.stderr.join('\n')}`);
        const starts = records.filter((r) => msg(r) === 'component started');
        assert.equal(starts.length, 1, `started once, not restarted\n${log}`);
        assert.ok(
          records.some((r) => msg(r) === 'component exited with signal SIGTERM' && r.pid === starts[0]!.pid),
          `the child died of SIGTERM\n${log}`,
        );
        if (mode === 'child') assert.equal(isAlive(Number(starts[0]!.pid)), false, 'the child is gone');
      });
    }
  });
}
