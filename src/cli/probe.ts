// `s7supervisor probe livez|readyz`: asks a running supervisor's endpoint, for a Docker
// HEALTHCHECK or a shell script. Exit 0 on HTTP 200, 1 on anything else, with one line saying why.

import { existsSync } from 'node:fs';
import http from 'node:http';
import { version } from '../meta/version.js';
import { loadRegistry } from '../registry/load.js';
import { locateRegistry } from '../registry/locate.js';
import { UsageError } from './errors.js';
import { parseCommandOptions } from './options.js';

export const probeHelp = `usage: s7supervisor probe livez|readyz [--port N] [--host ADDR] [--timeout S]

Asks the supervisor's /livez or /readyz endpoint; exit 0 when it answers 200, 1 otherwise.
Meant for a Docker HEALTHCHECK:  HEALTHCHECK CMD ["s7supervisor", "probe", "livez"]

options:
  --port N            HTTP port (else $S7SUPERVISOR_PORT, else the registry's <tcpport>, else 9910)
  --host ADDR         address to ask (else $S7SUPERVISOR_HOST, else the registry's <host>, else
                      127.0.0.1; a wildcard address such as 0.0.0.0 or :: means 127.0.0.1)
  --timeout S         seconds to wait for the answer (default 3)
  --registry FILE     the registry to read <tcpport> and <host> from (else $S7SUPERVISOR_REGISTRY,
  --home DIR            else conf/SupervisorRegistry.xml under --home, $S7SUPERVISOR_HOME or cwd)
  -h, --help          this text

exit codes: 0 the endpoint answered 200; 1 it answered something else or could not be reached;
  2 usage error.`;

const endpoints = ['livez', 'readyz'] as const;
type Endpoint = (typeof endpoints)[number];

const wildcard = new Set(['0.0.0.0', '::', '[::]', '']);

export async function probeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandOptions(
    'probe',
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      timeout: { type: 'string' },
      registry: { type: 'string' },
      home: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    { usage: probeHelp, allowPositionals: true },
  );
  if (values.help) {
    process.stdout.write(`${probeHelp}\n`);
    return 0;
  }
  const [endpoint, ...extra] = positionals;
  if (endpoint === undefined || !endpoints.includes(endpoint as Endpoint))
    throw new UsageError(
      `probe: say which endpoint: livez or readyz${endpoint ? `, not '${endpoint}'` : ''}\n\n${probeHelp}`,
    );
  if (extra.length > 0) throw new UsageError(`probe: unexpected argument '${extra[0]}'\n\n${probeHelp}`);

  const timeout = values.timeout === undefined ? 3 : Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError(`probe: --timeout must be a number of seconds above 0, not '${values.timeout}'`);
  const { host, port } = target(values, process.env);

  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const result = await get(host, port, `/${endpoint}?verbose`, timeout);
  if ('error' in result) {
    process.stderr.write(`s7supervisor probe: ${endpoint}: ${result.error} (${where})\n`);
    return 1;
  }
  if (result.status === 200) {
    process.stdout.write(`${endpoint}: ok (${where})\n`);
    return 0;
  }
  // the failing lines of the verbose answer say why, in one line
  const failing = result.body
    .split('\n')
    .filter((line) => line.startsWith('[-]'))
    .map((line) => line.slice(3));
  const why = failing.length > 0 ? `: ${failing.join('; ')}` : '';
  process.stderr.write(`s7supervisor probe: ${endpoint}: HTTP ${result.status}${why} (${where})\n`);
  return 1;
}

function target(
  values: { port?: string; host?: string; registry?: string; home?: string },
  env: NodeJS.ProcessEnv,
): { host: string; port: number } {
  let portText = values.port ?? (env.S7SUPERVISOR_PORT || undefined);
  let host = values.host ?? (env.S7SUPERVISOR_HOST || undefined);
  if (portText === undefined || host === undefined) {
    // the registry the supervisor would run says where it listens; no registry, the defaults
    const { file, home } = locateRegistry(values, env);
    if (existsSync(file)) {
      try {
        const { config } = loadRegistry(file, home, env);
        portText ??= String(config.tcpport);
        host ??= config.host;
      } catch {
        // an invalid registry has no supervisor running on it: the defaults will fail clearly
      }
    }
  }
  portText ??= '9910';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    throw new UsageError(`probe: the port must be a number 1-65535, not '${portText}'`);
  if (host === undefined || wildcard.has(host)) host = '127.0.0.1';
  return { host: host.replace(/^\[(.*)\]$/, '$1'), port };
}

function get(
  host: string,
  port: number,
  path: string,
  timeoutSeconds: number,
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const request = http.get(
      {
        host,
        port,
        path,
        agent: false,
        signal: AbortSignal.timeout(timeoutSeconds * 1000),
        headers: { 'User-Agent': `s7supervisor-probe/${version}`, Accept: 'text/plain' },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < 64 * 1024) body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'TimeoutError' || error.name === 'AbortError' || error.code === 'ABORT_ERR')
        resolve({ error: `no answer within ${timeoutSeconds}s` });
      else if (error.code === 'ECONNREFUSED')
        resolve({ error: 'connection refused: is the supervisor running?' });
      else resolve({ error: error.code ? `${error.code}: ${error.message}` : error.message });
    });
  });
}
