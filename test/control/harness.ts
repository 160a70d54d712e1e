// A real `s7supervisor run` for the control tests: sleep components, its control socket in the
// temp home, optionally the TCP port (and a control token), and the CLI's control commands run
// against it as an operator runs them.
import { copyFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { ComponentJson } from '../../src/view/component-json.js';
import { type RunningCli, runCli } from '../helpers/processes.js';
import { type TestServer, writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

/** a component that runs until stopped; `n` tells the command lines apart */
export const sleeper = (id: string, n: number, extra: Partial<TestServer> = {}): TestServer => ({
  id,
  command: 'sleep',
  args: [String(100_000 + n)],
  stopTimeout: 5,
  ...extra,
});

/** nothing from the test runner's environment may point the CLI elsewhere */
const cleanEnv: NodeJS.ProcessEnv = {
  S7SUPERVISOR_SOCKET: '',
  S7SUPERVISOR_REGISTRY: '',
  S7SUPERVISOR_HOME: '',
  S7SUPERVISOR_PORT: '',
  S7SUPERVISOR_CONTROL_TOKEN: '',
};

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** runs a one-shot CLI command to its end */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CommandResult> {
  const run = runCli(args, { env: { ...cleanEnv, ...env }, ...(cwd ? { cwd } : {}) });
  const code = await run.exited;
  return { code, stdout: run.stdout.join('\n'), stderr: run.stderr.join('\n') };
}

/** one HTTP request over a Unix socket */
export function socketRequest(
  socketPath: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Supervised {
  run: RunningCli;
  home: string;
  socket: string;
  /** the TCP port, when asked for */
  port?: number;
  url(path: string): string;
  /** `s7supervisor <command> ... --home <home>` */
  ctl(args: string[], env?: NodeJS.ProcessEnv): Promise<CommandResult>;
  components(): Promise<ComponentJson[]>;
  component(id: string): Promise<ComponentJson | undefined>;
  pids(): Promise<Record<string, number | undefined>>;
  /** waits until every listed component (all, if none listed) is running */
  waitRunning(ids?: string[]): Promise<ComponentJson[]>;
  /** rewrites the registry file in place (same home; same config unless `extraConfig` replaces options.config) */
  rewrite(servers: TestServer[], extraConfig?: string): void;
  stop(): Promise<number>;
}

export async function supervise(
  servers: TestServer[],
  /** config: XML added to <config>; running: the ids to wait for (default every one) */
  options: { tcp?: boolean; token?: string; config?: string; running?: string[] } = {},
): Promise<Supervised> {
  const port = options.tcp ? await freePort() : undefined;
  const base = port === undefined ? '' : `<tcpport>${port}</tcpport><host>127.0.0.1</host>`;
  const config = `${base}${options.config ?? ''}`;
  const home = writeRegistry(servers, config);
  const socket = join(home, 'temp/s7supervisor.sock');
  const run = runCli(
    ['run', '--home', home, '--log-level', 'debug', ...(port === undefined ? ['--port', '0'] : [])],
    {
      env: { ...cleanEnv, ...(options.token ? { S7SUPERVISOR_CONTROL_TOKEN: options.token } : {}) },
    },
  );
  const components = async () => {
    const { status, body } = await socketRequest(socket, '/api/v1/components');
    if (status !== 200) throw new Error(`GET /api/v1/components: ${status}`);
    return (JSON.parse(body) as { components: ComponentJson[] }).components;
  };
  const supervised: Supervised = {
    run,
    home,
    socket,
    ...(port !== undefined ? { port } : {}),
    url: (path) => `http://127.0.0.1:${port}${path}`,
    ctl: (args, env) => cli([...args, '--home', home], env),
    components,
    component: async (id) => (await components()).find((c) => c.id === id),
    pids: async () => Object.fromEntries((await components()).map((c) => [c.id, c.pid])),
    waitRunning: (ids) =>
      waitFor(
        async () => {
          if (run.exitCode() !== undefined) throw new Error(`run exited: ${run.stderr.join('\n')}`);
          const list = await components();
          const wanted = ids ? list.filter((c) => ids.includes(c.id)) : list;
          const all = ids ? wanted.length === ids.length : wanted.length > 0;
          return all && wanted.every((c) => c.state === 'running') ? list : undefined;
        },
        { timeout: 20_000, message: `${ids?.join(', ') ?? 'every component'} running` },
      ),
    rewrite: (next, extraConfig) => {
      const nextConfig = extraConfig === undefined ? config : `${base}${extraConfig}`;
      copyFileSync(
        join(writeRegistry(next, nextConfig), 'conf/SupervisorRegistry.xml'),
        join(home, 'conf/SupervisorRegistry.xml'),
      );
    },
    stop: async () => {
      process.kill(run.pid, 'SIGTERM');
      return waitFor(() => run.exitCode(), { timeout: 30_000, message: 'the supervisor to exit' });
    },
  };
  await supervised.waitRunning(options.running);
  return supervised;
}

/** the rows of the status table: header names → cell text (the last column takes the rest of the line) */
export function parseTable(text: string): Array<Record<string, string>> {
  const [header, ...lines] = text.split('\n').filter((line) => line.trim() !== '');
  if (!header) return [];
  // column starts: where each title begins in the header
  const titles = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ title: m[0], start: m.index ?? 0 }));
  return lines.map((line) =>
    Object.fromEntries(
      titles.map(({ title, start }, i) => {
        const end = titles[i + 1]?.start ?? line.length;
        return [title, line.slice(start, end).trim()];
      }),
    ),
  );
}
