// `s7supervisor run`: wires the edges (registry, logs, reaper, HTTP, signals) around the
// supervision core and turns how it ended into the exit code of design.md §1.

import type http from 'node:http';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { startProbe, watchReadyFd } from '../health/index.js';
import { controlSocketPath, openControlSocket } from '../http/control-socket.js';
import { createHttpApp, type HttpApp, listenHttp, StartupError } from '../http/index.js';
import { createLogger, flushLogger, levelFromTracelevel, logSink } from '../log/logger.js';
import { outputAttacher } from '../log/output.js';
import { NativeAddonError } from '../process/native.js';
import { initReaperMode, startReaper } from '../process/reaper.js';
import { forwardableSignals, onSignals, signalNumber } from '../process/signals.js';
import { lookupUser } from '../process/users.js';
import { RegistryError } from '../registry/errors.js';
import { loadRegistry } from '../registry/load.js';
import { locateRegistry } from '../registry/locate.js';
import type { Registry } from '../registry/model.js';
import { tiniComponentId, tiniRegistry } from '../registry/tini.js';
import { startStatsLog } from '../supervisor/stats-log.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { UsageError } from './errors.js';
import { parseRunOptions, type RunOptions, runHelp } from './run-options.js';
import { version } from './version.js';

export async function runCommand(argv: string[]): Promise<number> {
  const options = parseRunOptions(argv, process.env);
  if (options.help) {
    process.stdout.write(`${runHelp}\n`);
    return 0;
  }
  const { registry, reload } = loadForRun(options);
  for (const server of registry.servers) {
    if (server.user !== undefined && !lookupUser(server.user))
      throw new UsageError(
        `${registry.file}: server "${server.id}": <user> "${server.user}" does not exist in /etc/passwd`,
      );
  }
  const port = options.port ?? registry.config.tcpport;
  const host = options.host ?? registry.config.host;

  const logger = createLogger({
    level: options.logLevel ?? levelFromTracelevel(registry.config.tracelevel),
    ...(registry.config.log ? { file: registry.config.log } : {}),
    pretty: process.stdout.isTTY === true,
  });
  const tini = options.command !== undefined;
  const supervisor = new Supervisor({
    registry,
    logger,
    attachOutput: outputAttacher(logSink(logger)),
    startProbe,
    watchReadyFd,
    ...(reload ? { loadRegistry: reload } : {}),
    ...(tini ? { inheritStdin: true, leftoverGraceMs: 1000 } : {}),
  });

  let reaperMode: ReturnType<typeof initReaperMode>;
  try {
    reaperMode = initReaperMode({ subreaper: options.subreaper, isPid1: process.pid === 1 });
  } catch (error) {
    // an install problem (the addon was not built): say how to fix it, start nothing
    if (error instanceof NativeAddonError) throw new UsageError(error.message);
    throw error;
  }
  logger.info({ mode: reaperMode.mode, supervisorPid: process.pid, version }, reaperMode.description);
  if (reaperMode.warning) logger.warn(reaperMode.warning);
  const reaper = startReaper({ onReaped: (count) => supervisor.emit('reaped', count), logger });

  const servers: http.Server[] = [];
  const controlToken = process.env.S7SUPERVISOR_CONTROL_TOKEN;
  const appOptions = { view: supervisor, control: supervisor, version, pid1: process.pid === 1, logger };
  // tini mode has a control socket only when asked for one: no <temp> to put it in otherwise
  const socketPath =
    tini && !options.socket && !process.env.S7SUPERVISOR_SOCKET
      ? undefined
      : controlSocketPath(options.socket, process.env, registry.config.temp);
  // one /proc reading for everything that shows resources: metrics, page, API, stats log
  let shared: Pick<HttpApp, 'metrics' | 'snapshots'> | undefined;
  try {
    if (port !== 0) {
      const app = createHttpApp({ ...appOptions, ...(controlToken ? { controlToken } : {}) });
      shared = app;
      servers.push(await listenHttp(app, host, port, { logger }));
      logger.info({ host, port }, `HTTP endpoints on ${host}:${port}`);
    }
    if (socketPath) {
      const app = createHttpApp({
        ...appOptions,
        trustCaller: true,
        ...(shared ? { metrics: shared.metrics, snapshots: shared.snapshots } : {}),
      });
      shared ??= app;
      servers.push(await openControlSocket(app, socketPath, { logger }));
      logger.info({ socket: socketPath }, `control socket ${socketPath}`);
    }
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    reaper.stop();
    for (const server of servers) server.close();
    logger.error(error.message);
    await flushLogger(logger);
    process.stderr.write(`s7supervisor: ${error.message}\n`);
    return 2;
  }
  const stats = startStatsLog(
    supervisor,
    logger,
    registry.config.tracestatsinterval,
    ...(shared ? [shared.snapshots.resources] : []),
  );

  const code = tini
    ? await superviseOneCommand(supervisor, logger)
    : await superviseRegistry(supervisor, logger);

  stats.stop();
  reaper.stop();
  // closing the control socket removes its file: wait for it, so no dead socket is left behind
  await Promise.all(
    servers.map(
      (server) =>
        new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        }),
    ),
  );
  logger.info({ exitCode: code }, 'supervisor exiting');
  await flushLogger(logger);
  return code;
}

function loadForRun(options: RunOptions): { registry: Registry; reload?: () => Registry } {
  if (options.command) {
    const [command, ...args] = options.command as [string, ...string[]];
    return {
      registry: tiniRegistry({
        command,
        args,
        restart: options.restart,
        output: options.output,
        home: resolve(options.home ?? process.env.S7SUPERVISOR_HOME ?? process.cwd()),
        port: options.port ?? 9910,
        host: options.host ?? '0.0.0.0',
      }),
    };
  }
  const { file, home } = locateRegistry(
    {
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.home ? { home: options.home } : {}),
    },
    process.env,
  );
  try {
    return {
      registry: loadRegistry(file, home, process.env),
      reload: () => loadRegistry(file, home, process.env),
    };
  } catch (error) {
    if (error instanceof RegistryError) throw new UsageError(error.message);
    throw error;
  }
}

/** Registry mode: TERM/INT stop in order (a second one kills), HUP reloads, USR1/USR2 pass on. */
async function superviseRegistry(supervisor: Supervisor, logger: Logger): Promise<number> {
  let forced: number | undefined;
  const removeStop = onSignals(['SIGTERM', 'SIGINT'], (signal) => {
    if (supervisor.phase === 'stopping' || supervisor.phase === 'gave-up') {
      logger.warn({ signal }, `second ${signal}: SIGKILL to every component`);
      supervisor.killAll();
      forced = 128 + signalNumber(signal);
      void flushLogger(logger).then(() => process.exit(forced));
      return;
    }
    logger.info({ signal }, `${signal} received: stopping`);
    void supervisor.shutdown(`signal ${signal}`);
  });
  const removeReload = onSignals(['SIGHUP'], () => {
    logger.info('SIGHUP received: reloading the registry');
    void supervisor.reload();
  });
  const removeForward = onSignals(['SIGUSR1', 'SIGUSR2'], (signal) => supervisor.forwardSignal(signal));

  void supervisor.startAll();
  const outcome = await supervisor.outcome;
  removeStop();
  removeReload();
  removeForward();
  return forced ?? (outcome.kind === 'gave-up' ? 1 : 0);
}

/** Tini mode: every signal goes on to the child; its exit (or 127/126) is ours. */
async function superviseOneCommand(supervisor: Supervisor, logger: Logger): Promise<number> {
  const removeForward = onSignals(forwardableSignals, (signal) => {
    // After TERM/INT the child is on its way down: whatever its policy, it is not restarted.
    if (signal === 'SIGTERM' || signal === 'SIGINT') supervisor.disableRestarts();
    logger.debug({ signal }, 'passing signal on');
    supervisor.forwardSignal(signal);
  });
  const settled = new Promise<void>((resolve) => {
    supervisor.on('state', (status) => {
      if (status.state === 'stopped' || status.state === 'fatal') resolve();
    });
  });
  void supervisor.startAll();
  const ended = await Promise.race([settled.then(() => 'settled' as const), supervisor.outcome]);
  removeForward();
  const main = supervisor.component(tiniComponentId);
  if (ended !== 'settled') return ended.kind === 'gave-up' ? 1 : (main?.lastExit?.code ?? 0);
  await supervisor.shutdown('the command ended');
  if (main?.startError) return main.startError.code === 'ENOENT' ? 127 : 126;
  return main?.lastExit?.code ?? 0;
}
