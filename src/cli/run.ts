// `s7supervisor run`: wires the edges (registry, logs, reaper, HTTP, signals) around the
// supervision core and turns how it ended into the exit code of design.md §1.

import type http from 'node:http';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { startProbe, watchReadyFd } from '../health/index.js';
import { controlSocketPath, openControlSocket } from '../http/control-socket.js';
import { type DeferredListener, deferredListener, keepEarlyEvents } from '../http/deferred.js';
import type { HttpAppOptions } from '../http/index.js';
import { listenHttp, StartupError } from '../http/listen.js';
import { createLogger, flushLogger, levelFromTracelevel, logSink } from '../log/logger.js';
import { outputAttacher } from '../log/output.js';
import { NativeAddonError } from '../process/native.js';
import { initReaperMode, startReaper } from '../process/reaper.js';
import { forwardableSignals, onSignals, signalNumber } from '../process/signals.js';
import { lookupUser } from '../process/users.js';
import { startWatchdog } from '../process/watchdog.js';
import { RegistryError } from '../registry/errors.js';
import { loadRegistry } from '../registry/load.js';
import { locateRegistry } from '../registry/locate.js';
import type { Registry } from '../registry/model.js';
import { tiniComponentId, tiniRegistry } from '../registry/tini.js';
import { CLOSE_LISTENERS_MS, FINAL_FLUSH_MS, withinDeadline } from '../supervisor/deadline.js';
import { startStatsLog } from '../supervisor/stats-log.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { releaseEarlySignals } from './early-signals.js';
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
  // as PID 1 the kernel ends every component with us; otherwise the watchdog does
  const watchdog =
    reaperMode.mode === 'pid1' ? undefined : await startWatchdog((problem) => logger.warn(problem));

  const supervisor = new Supervisor({
    registry,
    logger,
    attachOutput: outputAttacher(logSink(logger)),
    startProbe,
    watchReadyFd,
    ...(reload ? { loadRegistry: reload } : {}),
    ...(tini ? { inheritStdin: true, leftoverGraceMs: 1000 } : {}),
    ...(watchdog ? { groupWatch: watchdog } : {}),
  });
  const reaper = startReaper({ onReaped: (count) => supervisor.emit('reaped', count), logger });

  const servers: http.Server[] = [];
  const controlToken = process.env.S7SUPERVISOR_CONTROL_TOKEN;
  const appOptions = { view: supervisor, control: supervisor, version, pid1: process.pid === 1, logger };
  // tini mode has a control socket only when asked for one: no <temp> to put it in otherwise
  const socketPath =
    tini && !options.socket && !process.env.S7SUPERVISOR_SOCKET
      ? undefined
      : controlSocketPath(options.socket, process.env, registry.config.temp);
  // bound now, answered once the first components were spawned (serveEndpoints)
  const tcp = port !== 0 ? deferredListener() : undefined;
  const socket = socketPath ? deferredListener() : undefined;
  try {
    if (tcp) {
      servers.push(await listenHttp(tcp.listener, host, port));
      logger.info({ host, port }, `HTTP endpoints on ${host}:${port}`);
    }
    if (socket && socketPath) {
      servers.push(await openControlSocket(socket.listener, socketPath));
      logger.info({ socket: socketPath }, `control socket ${socketPath}`);
    }
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    reaper.stop();
    watchdog?.close();
    for (const server of servers) server.close();
    logger.error(error.message);
    await flushLogger(logger);
    process.stderr.write(`s7supervisor: ${error.message}\n`);
    return 2;
  }
  const stats = startStatsLog(supervisor, logger, registry.config.tracestatsinterval);
  // on the next turn of the loop: after the start below has spawned the first priority group
  const early = tcp || socket ? keepEarlyEvents(supervisor) : undefined;
  const endpointOptions = { ...appOptions, view: early?.view ?? supervisor };
  setImmediate(() => {
    serveEndpoints(endpointOptions, controlToken, tcp, socket).then(
      () => early?.stop(),
      (error: unknown) => logger.error({ err: error }, 'the HTTP endpoints could not be loaded'),
    );
  });

  const code = tini
    ? await superviseOneCommand(supervisor, logger)
    : await superviseRegistry(supervisor, logger);

  stats.stop();
  reaper.stop();
  watchdog?.close();
  // closing the control socket removes its file: wait for it, so no dead socket is left behind
  const closed = Promise.all(
    servers.map(
      (server) =>
        new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        }),
    ),
  );
  if (!(await withinDeadline(closed, CLOSE_LISTENERS_MS)))
    logger.warn('the HTTP listeners did not close in time: exiting anyway');
  logger.info({ exitCode: code }, 'supervisor exiting');
  // nobody reading our stdout must not keep us alive: what cannot be written in time is lost
  await withinDeadline(flushLogger(logger), FINAL_FLUSH_MS);
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
  const onSignal = (signal: NodeJS.Signals) => {
    switch (signal) {
      case 'SIGTERM':
      case 'SIGINT':
        if (supervisor.phase !== 'starting' && supervisor.phase !== 'running') {
          logger.warn({ signal }, `second ${signal}: SIGKILL to every component`);
          supervisor.killAll();
          forced = 128 + signalNumber(signal);
          void flushLogger(logger).then(() => process.exit(forced));
          return;
        }
        logger.info({ signal }, `${signal} received: stopping`);
        void supervisor.shutdown(`signal ${signal}`);
        return;
      case 'SIGHUP':
        logger.info('SIGHUP received: reloading the registry');
        void supervisor.reload();
        return;
      case 'SIGUSR1':
      case 'SIGUSR2':
        supervisor.forwardSignal(signal);
        return;
      default:
        // held while starting but not one of ours in registry mode: nothing to do
        return;
    }
  };
  const removeHandlers = onSignals(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'], onSignal);
  // a signal that came while we were loading is acted on now, before anything starts
  for (const signal of releaseEarlySignals()) onSignal(signal);

  void supervisor.startAll();
  const outcome = await supervisor.outcome;
  // TERM/INT stay handled until the process exits: a second one during the last flush ends it at once
  removeHandlers();
  onSignals(['SIGTERM', 'SIGINT'], onSignal);
  return forced ?? (outcome.kind === 'gave-up' ? 1 : 0);
}

/** Tini mode: every signal goes on to the child; its exit (or 127/126) is ours. */
async function superviseOneCommand(supervisor: Supervisor, logger: Logger): Promise<number> {
  const onSignal = (signal: NodeJS.Signals) => {
    // After TERM/INT the child is on its way down: whatever its policy, it is not restarted.
    if (signal === 'SIGTERM' || signal === 'SIGINT') supervisor.disableRestarts();
    logger.debug({ signal }, 'passing signal on');
    supervisor.forwardSignal(signal);
  };
  const removeForward = onSignals(forwardableSignals, onSignal);
  const early = releaseEarlySignals();
  const settled = new Promise<void>((resolve) => {
    supervisor.on('state', (status) => {
      if (status.state === 'stopped' || status.state === 'fatal') resolve();
    });
  });
  void supervisor.startAll();
  // as tini does: what came before the child existed is passed on once it does (the child is
  // being started now, and gets them as soon as it has a pid)
  for (const signal of early) onSignal(signal);
  const ended = await Promise.race([settled.then(() => 'settled' as const), supervisor.outcome]);
  removeForward();
  const main = supervisor.component(tiniComponentId);
  if (ended !== 'settled') return ended.kind === 'gave-up' ? 1 : (main?.lastExit?.code ?? 0);
  await supervisor.shutdown('the command ended');
  if (main?.startError) return main.startError.code === 'ENOENT' ? 127 : 126;
  return main?.lastExit?.code ?? 0;
}

/**
 * Loads the HTTP app (and its metrics, prom-client) and lets it answer on the sockets bound
 * before the start: the components' start does not wait for code that only answers requests.
 */
async function serveEndpoints(
  appOptions: HttpAppOptions,
  controlToken: string | undefined,
  tcp: DeferredListener | undefined,
  socket: DeferredListener | undefined,
): Promise<void> {
  if (!tcp && !socket) return;
  const { createHttpApp } = await import('../http/app.js');
  const app = tcp ? createHttpApp({ ...appOptions, ...(controlToken ? { controlToken } : {}) }) : undefined;
  tcp?.serve(app!);
  socket?.serve(
    createHttpApp({ ...appOptions, trustCaller: true, ...(app ? { metrics: app.metrics } : {}) }),
  );
}
