// Driving podman and docker-compose from the container end-to-end test: bounded commands, the
// compose file the test runs (the shipped one with clash-free ports), and views into a container.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Json } from '../deploy/files.js';

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** why the container tests named `what` cannot run here, or false when they can */
export function containerSkipReason(what: string): string | false {
  if (process.env.S7SUPERVISOR_SKIP_CONTAINER_TEST === '1')
    return `${what} skipped: S7SUPERVISOR_SKIP_CONTAINER_TEST=1`;
  if (process.platform !== 'linux') return `${what} skipped: podman needs Linux`;
  if (process.getuid?.() !== 0)
    return `${what} skipped: needs root (rootful podman and its API socket, apt-get); .ci/run runs it as root`;
  if (!onPath('podman') && !onPath('apt-get'))
    return `${what} skipped: podman is not installed and there is no apt-get to install it`;
  return false;
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion, output captured. Past `timeout` ms its whole process group is
 * SIGKILLed and the outcome says so: no wait in this test is unbounded.
 */
export function run(
  command: string,
  args: string[],
  options: { timeout: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeout);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${command}: ${error.message}\n` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n${command} ${args.join(' ')}: killed after ${options.timeout} ms\n`;
      resolve({ code: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0), stdout, stderr });
    });
  });
}

/**
 * Held (flock) while the project's image is built: container test files running side by side build
 * it one after the other, and the second finds podman's layer cache filled by the first.
 */
export const IMAGE_BUILD_LOCK = '/run/s7supervisor-image-build.lock';

/** `command args` as a command line that first takes IMAGE_BUILD_LOCK (waiting for it) */
export function underBuildLock(command: string, args: string[]): [string, string[]] {
  return ['flock', [IMAGE_BUILD_LOCK, command, ...args]];
}

/** the outcome if the command exited 0, else an error with its command line and the tail of its output */
export async function runOk(
  command: string,
  args: string[],
  options: { timeout: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<Outcome> {
  const outcome = await run(command, args, options);
  if (outcome.code !== 0) {
    const output = `${outcome.stdout}${outcome.stderr}`.slice(-4000);
    throw new Error(`${command} ${args.join(' ')} exited ${outcome.code}:\n${output}`);
  }
  return outcome;
}

/**
 * The shipped docker-compose.yml as the test runs it: every published port moved to a free port on
 * loopback chosen by the engine (`127.0.0.1::9910`), so the stack clashes with nothing on the host,
 * and `environment` added to the services named in `extraEnv`. Nothing else is changed.
 */
export function testCompose(shipped: Json, extraEnv: Record<string, Record<string, string>>): Json {
  const copy = structuredClone(shipped);
  const services = copy.services as Record<string, Json>;
  for (const [name, service] of Object.entries(services)) {
    if (Array.isArray(service.ports)) {
      service.ports = service.ports.map((entry: unknown) => {
        const container = String(entry).split(':').at(-1);
        return `127.0.0.1::${container}`;
      });
    }
    const env = extraEnv[name];
    if (env) {
      const current = service.environment;
      if (Array.isArray(current))
        service.environment = [...current, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
      else service.environment = { ...((current as Record<string, string> | undefined) ?? {}), ...env };
    }
  }
  for (const name of Object.keys(extraEnv))
    if (!services[name]) throw new Error(`docker-compose.yml has no service ${name}`);
  return copy;
}

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** R, S, D, Z, ... as in /proc/PID/stat */
  state: string;
  cmdline: string;
}

/**
 * Lists the container's processes from its /proc, with the image's own node (the image has no `ps`).
 * The script's own process is in the list too.
 */
export const listProcessesScript = `
const fs = require('fs');
const out = [];
for (const name of fs.readdirSync('/proc')) {
  if (!/^[0-9]+$/.test(name)) continue;
  try {
    const stat = fs.readFileSync('/proc/' + name + '/stat', 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = fs.readFileSync('/proc/' + name + '/cmdline', 'utf8').split('\\0').filter(Boolean).join(' ');
    out.push({ pid: Number(name), state: rest[0], ppid: Number(rest[1]), pgid: Number(rest[2]), cmdline });
  } catch {}
}
process.stdout.write(JSON.stringify(out));
`;

/** the JSON lines of a log, each parsed (anything else skipped) */
export function jsonLines(text: string): Json[] {
  const records: Json[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as Json);
    } catch {
      // a line that only looks like JSON
    }
  }
  return records;
}
