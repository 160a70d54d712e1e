// The demo image-serving stack (examples/image-serving/bin/demo-server.mjs as is, svg and ps)
// under a real `s7supervisor run`, on free loopback ports, for end-to-end tests of the
// endpoints and metrics.
import net from 'node:net';
import { join } from 'node:path';
import { demoHome } from './paths.js';
import { type RunningCli, runCli } from './processes.js';
import { type TestServer, writeRegistry } from './registry.js';
import { waitFor } from './wait.js';

export const demoServer = join(demoHome, 'bin/demo-server.mjs');

/** a port nothing listens on right now (bound to port 0, then released) */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

export interface DemoComponent {
  id: 'is' | 'svg' | 'ps';
  priority: number;
  /** extra demo-server flags (--ready-delay 2, --hang-on-usr1 ...) */
  flags?: string[];
  /** raw XML inside <server> replacing the default checks; {port} stands for the component's port */
  checks?: string;
  /** raw XML added inside <server> (restart policy, critical...) */
  extra?: string;
  stopTimeout?: number;
}

export interface Stack {
  cli: RunningCli;
  home: string;
  httpPort: number;
  ports: Record<string, number>;
  url(path: string): string;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** the component's snapshot from the JSON API */
  component(id: string): Promise<ApiComponent>;
  /** SIGTERM, then the exit code */
  stop(): Promise<number>;
}

export interface ApiComponent {
  id: string;
  state: string;
  ready: boolean;
  pid?: number;
  startedAt?: number;
  restarts: number;
  exits: Record<string, number>;
  lastExit?: { code: number; reason: string };
}

const defaultChecks = (port: number) =>
  `<readiness type="http" url="http://127.0.0.1:${port}/ping" interval="0.25" timeout="1"/>
      <liveness type="http" url="http://127.0.0.1:${port}/ping" interval="2" timeout="1" failureThreshold="3"/>`;

/** Writes a registry for `components`, starts `s7supervisor run` on it, waits for the HTTP port. */
export async function startStack(components: DemoComponent[]): Promise<Stack> {
  const httpPort = await freePort();
  const ports: Record<string, number> = {};
  for (const c of components) ports[c.id] = await freePort();
  const servers: TestServer[] = components.map((c) => {
    const port = ports[c.id]!;
    const args = [demoServer, c.id, '--port', String(port), ...(c.flags ?? [])];
    if (c.id === 'ps' && ports.is) args.push('--is-url', `http://127.0.0.1:${ports.is}/ping`);
    return {
      id: c.id,
      command: process.execPath,
      args,
      priority: c.priority,
      stopTimeout: c.stopTimeout ?? 5,
      extra: `${c.checks?.replaceAll('{port}', String(port)) ?? defaultChecks(port)}\n      ${c.extra ?? ''}`,
    };
  });
  const home = writeRegistry(servers, `<tcpport>${httpPort}</tcpport><host>127.0.0.1</host>`);
  const cli = runCli(['run', '--home', home, '--log-level', 'debug']);
  const url = (path: string) => `http://127.0.0.1:${httpPort}${path}`;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url(path), { headers });
    return { status: response.status, body: await response.text() };
  };
  await waitFor(
    async () => {
      if (cli.exitCode() !== undefined) throw new Error(`run exited: ${cli.stderr.join('\n')}`);
      return (await get('/livez')).status === 200;
    },
    { timeout: 20_000, message: 'the supervisor HTTP port' },
  );
  return {
    cli,
    home,
    httpPort,
    ports,
    url,
    get,
    async component(id: string) {
      const { status, body } = await get(`/api/v1/components/${id}`);
      if (status !== 200) throw new Error(`GET /api/v1/components/${id}: ${status}`);
      return JSON.parse(body) as ApiComponent;
    },
    async stop() {
      process.kill(cli.pid, 'SIGTERM');
      return waitFor(() => cli.exitCode(), { timeout: 30_000, message: 'the supervisor to exit' });
    },
  };
}
