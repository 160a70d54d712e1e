// What the chaos scenarios read from the outside, as an operator would: /proc of the supervisor
// (descriptors, resident memory, caught signals, namespaces), probes on fresh connections with a
// deadline, a metrics scrape, and a seeded random source so a failing storm can be replayed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { sampleValue } from '../helpers/exposition.js';

/** open descriptors of `pid` (ls /proc/PID/fd) */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * How many of descriptors 0..limit-1 of `pid` are open. A process can open no descriptor when
 * this equals its RLIMIT_NOFILE: a new one takes the lowest free number below the limit, while
 * descriptors opened before the limit was lowered may sit above it and do not count.
 */
export function fdsBelow(pid: number, limit: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((name) => Number(name) < limit).length;
}

/** one field of /proc/PID/status, e.g. VmRSS, SigCgt, NSpid */
export function statusField(pid: number, field: string): string | undefined {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
}

/** resident memory of `pid` in bytes (VmRSS) */
export function rssBytes(pid: number): number {
  return Number(/^(\d+) kB$/.exec(statusField(pid, 'VmRSS') ?? '')?.[1] ?? Number.NaN) * 1024;
}

/**
 * Whether `pid` catches SIGHUP (bit 0 of SigCgt). Node catches no SIGHUP of its own, so this is
 * the moment s7supervisor's own handlers (early-signals.ts) are in: from then on no signal is lost.
 */
export function catchesSighup(pid: number): boolean {
  try {
    const mask = statusField(pid, 'SigCgt');
    return mask !== undefined && (BigInt(`0x${mask}`) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** the pids of `pid` in each PID namespace, outermost first (NSpid): [outer, ..., inner] */
export function nsPids(pid: number): number[] {
  return (statusField(pid, 'NSpid') ?? '').split(/\s+/).filter(Boolean).map(Number);
}

/** the innermost pid (as the process sees itself) of outer `pid` */
export function innerPid(pid: number): number | undefined {
  return nsPids(pid).at(-1);
}

export function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * When `pid` started (clock ticks since boot, /proc/PID/stat field 22), or undefined when there
 * is no such process: with the pid, an identity that survives pid reuse (pid_max may be 32768,
 * and a crash loop goes through that in two minutes).
 */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/** process group of `pid` (as seen from this namespace) */
export function pgidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

export interface ProbeResult {
  status: number;
  ms: number;
  /** the error when no answer came (timeout, refused) */
  error?: string;
}

/** GET on a fresh connection (as a kubelet probes), cut off after `timeoutMs`; never throws */
export function probe(url: string, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - t0 }));
      response.on('error', (error) =>
        resolve({ status: 0, ms: performance.now() - t0, error: error.message }),
      );
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ status: 0, ms: performance.now() - t0, error: error.message }));
  });
}

/** GET, the body as text, on a fresh connection; throws on an error or a timeout */
export function getText(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/** s7supervisor_component_restarts_total of each component id, from one scrape */
export async function restartsByComponent(port: number, ids: string[]): Promise<Record<string, number>> {
  const { status, body } = await getText(`http://127.0.0.1:${port}/metrics`);
  if (status !== 200) throw new Error(`GET /metrics: ${status}`);
  return Object.fromEntries(
    ids.map((id) => [
      id,
      sampleValue(body, 's7supervisor_component_restarts_total', { component: id }) ?? -1,
    ]),
  );
}

/** lines in a file (0 when it does not exist yet) */
export function lineCount(file: string): number {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, 'utf8');
  return text === '' ? 0 : text.split('\n').filter((line) => line !== '').length;
}

/** a small seeded PRNG (mulberry32): [0, 1) */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
