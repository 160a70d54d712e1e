// `s7supervisor run`: wires the edges (registry, logs, reaper, HTTP, signals) around the
// supervision core and turns how it ended into the exit code of design.md §1.

import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { startProbe, watchReadyFd } from '../health/index.js';
import type { HttpAppOptions } from '../http/app.js';
import { controlSocketPath, openControlSocket } from '../http/control-socket.js';
import { type DeferredListener, deferredListener, keepEarlyEvents } from '../http/deferred.js';
import { listenHttp, StartupError } from '../http/listen.js';
import { type LiveFeeds, liveFeeds } from '../http/live.js';
import { SnapshotCache } from '../http/snapshot-cache.js';
import { LogBuffers } from '../log/buffer.js';
import { createLogger, flushLogger, levelFromTracelevel, logSink } from '../log/logger.js';
import { outputAttacher } from '../log/output.js';
import { relaysEnded } from '../log/relay.js';
import { version } from '../meta/version.js';
import { createResourceReader } from '../metrics/resources.js';
import { NativeAddonError } from '../process/native.js';
import { nodeProcessHost } from '../process/node-host.js';
import { initReaperMode, startReaper } from '../process/reaper.js';
import { forwardableSignals, onSignals, signalNumber } from '../process/signals.js';
import { type ChildTerminal, ignoreTerminalStops, terminalForChild } from '../process/terminal.js';
import { lookupUser } from '../process/users.js';
import { startWatchdog } from '../process/watchdog.js';
import { RegistryError } from '../registry/errors.js';
import { loadRegistry } from '../registry/load.js';
import { locateRegistry } from '../registry/locate.js';
import type { Registry } from '../registry/model.js';
import { tiniComponentId, tiniRegistry } from '../registry/tini.js';
import { quoted } from '../registry/values.js';
import { CLOSE_LISTENERS_MS, FINAL_FLUSH_MS, RELAYS_END_MS, withinDeadline } from '../supervisor/deadline.js';
import {
  EXIT_CANNOT_EXECUTE,
  EXIT_GAVE_UP,
  EXIT_NOT_FOUND,
  EXIT_STOPPED,
  EXIT_USAGE,
  exitForSignal,
} from '../supervisor/exit-codes.js';
import { startStatsLog } from '../supervisor/stats-log.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { startupDone } from './code-cache.js';
import { parseControlToken } from './control-token.js';
import { releaseEarlySignals } from './early-signals.js';
import { UsageError } from './errors.js';
import { type LiveListeners, moveListeners } from './listeners.js';
import { parseRunOptions, type RunOptions, runHelp } from './run-options.js';
import { giveStartUpMemoryBack } from './start-up-memory.js';
import { statusPageUrl } from './status-url.js';
import { keepYoungGenerationSmall } from './young-generation.js';

export async function runCommand(argv: string[]): Promise<number> {
  const options = parseRunOptions(argv, process.env);
  if (options.help) {
    process.stdout.write(`${runHelp}\n`);
    return 0;
  }
  // before anything starts: a bad token is a start-up error (exit 2), never a weak lock
  const token = parseControlToken(process.env.S7SUPERVISOR_CONTROL_TOKEN);
  if (!token.ok) throw new UsageError(token.message);
  const controlToken = token.token;
  const { registry, reload } = loadForRun(options);
  for (const server of registry.servers) {
    if (server.user !== undefined && !lookupUser(server.user))
      throw new UsageError(
        `${registry.file}: server "${server.id}": <user> ${quoted(server.user)} does not exist in /etc/passwd`,
      );
  }
  const port = options.port ?? registry.config.tcpport;
  const host = options.host ?? registry.config.host;

  const tini = options.command !== undefined;
  const logger = createLogger({
    // tini mode is quiet, as tini is: only real problems (--log-level info brings the rest back)
    level: options.logLevel ?? (tini ? 'warn' : levelFromTracelevel(registry.config.tracelevel)),
    ...(registry.config.log
      ? { file: registry.config.log, retentionDays: registry.config.logRetentionDays }
      : {}),
    pretty: process.stdout.isTTY === true,
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
  // before the watchdog, so that it is started by the addon as components are (no node:child_process
  // to load); what it reaps before the supervisor exists is counted once that does
  let onReaped = (count: number) => {
    reapedEarly += count;
  };
  let reapedEarly = 0;
  const reaper = startReaper({ onReaped: (count) => onReaped(count), logger });
  // as PID 1 the kernel ends every component with us; otherwise the watchdog does
  const watchdog =
    reaperMode.mode === 'pid1' ? undefined : await startWatchdog((problem) => logger.warn(problem));

  // tini mode on a terminal: the command gets it, with job control (design.md §5 rev. 2)
  const terminal = tini ? terminalForChild() : undefined;
  if (terminal)
    logger.info(
      { foreground: terminal.takeForeground },
      terminal.takeForeground
        ? 'stdin is our terminal: the command runs as its foreground process group'
        : 'stdin is our terminal but we run in the background: so does the command',
    );
  const buffers = outputBuffers(registry, logger);
  // one /proc reading for everything that reads resources: metrics, page, API, stats log, and the
  // memory limits
  const resources = createResourceReader();
  const supervisor = new Supervisor({
    // the real operating system: node:child_process, process groups, Node's timers
    host: nodeProcessHost({ warn: (message) => logger.warn(message) }),
    registry,
    logger,
    attachOutput: outputAttacher(logSink(logger), buffers),
    startProbe,
    watchReadyFd,
    memory: resources,
    // a new <logBuffer lines> applies with the registry that brings it
    ...(reload ? { loadRegistry: () => configureBuffers(buffers, reload()) } : {}),
    ...(tini ? { inheritStdin: true, leftoverGraceMs: 1000, exitIsResult: true } : {}),
    ...(terminal ? { terminal } : {}),
    ...(watchdog ? { groupWatch: watchdog } : {}),
    // a reload moves the listeners to a new <tcpport>, <host> or <temp> (a flag or variable still wins)
    reconfigure: (next) =>
      moveListeners(
        live,
        {
          host: options.host ?? next.host,
          port: options.port ?? next.tcpport,
          ...(tini && !options.socket && !process.env.S7SUPERVISOR_SOCKET
            ? {}
            : { socketPath: controlSocketPath(options.socket, process.env, next.temp) }),
        },
        logger,
      ),
  });
  onReaped = (count) => supervisor.emit('reaped', count);
  if (reapedEarly > 0) supervisor.emit('reaped', reapedEarly);
  supervisor.on('removed', (id) => buffers.remove(id));
  // what the live endpoints follow: state changes and the components' output
  const feeds = liveFeeds(supervisor, buffers);

  const snapshots = new SnapshotCache(supervisor, resources);
  // on the next turn of the loop (after the start below has spawned the first priority group),
  // or as soon as a reload opens a listener; the metrics count the probes and reaps before that
  const early = keepEarlyEvents(supervisor);
  const endpointOptions: EndpointOptions = {
    view: early.view,
    control: supervisor,
    version,
    pid1: process.pid === 1,
    logger,
    live: feeds,
    snapshots,
    ...(controlToken ? { controlToken } : {}),
  };
  const live = listenerApps(() =>
    serveEndpoints(live, endpointOptions).then(
      () => early.stop(),
      (error: unknown) => logger.error({ err: error }, 'the HTTP endpoints could not be loaded'),
    ),
  );
  // tini mode has a control socket only when asked for one: no <temp> to put it in otherwise
  const socketPath =
    tini && !options.socket && !process.env.S7SUPERVISOR_SOCKET
      ? undefined
      : controlSocketPath(options.socket, process.env, registry.config.temp);
  try {
    if (port !== 0) {
      // bound now, answered once the first components were spawned (serveEndpoints)
      const server = await listenHttp(live.httpApp(), host, port, { logger });
      live.servers.push(server);
      live.http = { server, host, port };
      // the status page as a link a terminal makes clickable (0.0.0.0 and :: are not addresses to browse to)
      logger.info(
        { host, port },
        `HTTP endpoints on ${host}:${port}: status page ${statusPageUrl(host, port)}`,
      );
    }
    if (socketPath) {
      const server = await openControlSocket(live.socketApp(), socketPath, { logger });
      live.servers.push(server);
      live.socket = { server, path: socketPath };
      logger.info({ socket: socketPath }, `control socket ${socketPath}`);
    }
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    reaper.stop();
    watchdog?.close();
    for (const server of live.servers) server.close();
    logger.error(error.message);
    await flushLogger(logger);
    process.stderr.write(`s7supervisor: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const stats = startStatsLog(supervisor, logger, registry.config.tracestatsinterval, snapshots.resources);
  // One turn of the event loop before anything starts. Everything since the first line ran without
  // one (the bundle is read and compiled synchronously), and Node hands a signal to its handlers
  // only on a turn of the loop: a SIGTERM that came while loading is held now, and acted on before
  // the first spawn, not after it (reference.md: nothing started).
  await new Promise((resolve) => setImmediate(resolve));
  // nothing listens (--port 0, tini mode without a socket): nothing to load unless a reload opens one
  let stopTrimming: (() => void) | undefined;
  let restoreMemoryDefaults: (() => void) | undefined;
  // Two turns of the loop from now: the start below has spawned the first priority group, and the
  // records of its start have been written (the log writes on the next turn, and loading the app
  // is synchronous, ~10 ms, so it comes after them).
  setImmediate(() =>
    setImmediate(() => {
      // a code cache still to be written gets what ran until now: the start-up, not the app
      startupDone();
      // after the cache was made: V8 keys a cache on the flags in effect when it is made, and the
      // next start compiles without this one
      keepYoungGenerationSmall();
      restoreMemoryDefaults = giveStartUpMemoryBack();
      if (live.servers.length === 0) early.stop();
      live.load();
      void import('../process/memory-trim.js').then(({ trimAfterFullCollections }) => {
        stopTrimming = trimAfterFullCollections();
      });
    }),
  );

  const code = tini
    ? await superviseOneCommand(supervisor, logger, terminal)
    : await superviseRegistry(supervisor, logger);

  stats.stop();
  stopTrimming?.();
  restoreMemoryDefaults?.();
  reaper.stop();
  watchdog?.close();
  feeds.sse.closeAll();
  // closing the control socket removes its file: wait for it, so no dead socket is left behind
  const closed = Promise.all(
    live.servers.map(
      (server) =>
        new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        }),
    ),
  );
  if (!(await withinDeadline(closed, CLOSE_LISTENERS_MS)))
    logger.warn('the HTTP listeners did not close in time: exiting anyway');
  // the components are gone: what the last of them printed may still be in a relay's hands (raw
  // output), and is out within moments once its pipe ends; a stray process holding a pipe open
  // only delays the exit by the bound
  await withinDeadline(relaysEnded(), RELAYS_END_MS);
  logger.info({ exitCode: code }, 'supervisor exiting');
  // nobody reading our stdout must not keep us alive: what cannot be written in time is lost
  await withinDeadline(flushLogger(logger), FINAL_FLUSH_MS);
  return code;
}

/**
 * What answers on the HTTP port and the control socket: bound before anything starts (a port in
 * use is a start-up error with nothing started), answered by the HTTP app once serveEndpoints has
 * loaded it. A request that comes in between waits for it.
 */
interface DeferredApps extends LiveListeners {
  answerTcp: DeferredListener;
  answerSocket: DeferredListener;
  /**
   * From now on the app is needed (or will be, by the first listener opened later): loads it
   * once; later calls do nothing
   */
  load(): void;
}

function listenerApps(load: () => Promise<void>): DeferredApps {
  const answerTcp = deferredListener();
  const answerSocket = deferredListener();
  let state: 'not yet' | 'when needed' | 'loading' = 'not yet';
  const loadWhenNeeded = () => {
    if (state !== 'when needed') return;
    state = 'loading';
    void load();
  };
  const apps: DeferredApps = {
    servers: [],
    answerTcp,
    answerSocket,
    load: () => {
      if (state === 'loading') return;
      state = 'when needed';
      if (apps.servers.length > 0) loadWhenNeeded();
    },
    // a listener opened by a reload, after start-up, before the app was loaded: load it now
    httpApp: () => {
      loadWhenNeeded();
      return answerTcp.listener;
    },
    socketApp: () => {
      loadWhenNeeded();
      return answerSocket.listener;
    },
  };
  return apps;
}

type EndpointOptions = Omit<HttpAppOptions, 'trustCaller' | 'metrics'> & { live: LiveFeeds };

/**
 * Loads the HTTP app (and its metrics, prom-client, express) and lets it answer on both
 * listeners: the components' start does not wait for code that only answers requests. Both apps
 * share one metrics registry and one snapshot cache.
 */
async function serveEndpoints(apps: DeferredApps, options: EndpointOptions): Promise<void> {
  const { createHttpApp } = await import('../http/app.js');
  const tcpApp = createHttpApp(options);
  apps.answerTcp.serve(tcpApp);
  // the socket's caller is trusted: no token
  const { controlToken, ...trusted } = options;
  apps.answerSocket.serve(createHttpApp({ ...trusted, trustCaller: true, metrics: tcpApp.metrics }));
}

/** the in-memory output of every component (design.md §7 rev. 2); a drop is said once per component */
function outputBuffers(registry: Registry, logger: Logger): LogBuffers {
  return new LogBuffers({
    lines: registry.config.logBuffer.lines,
    onFirstDrop: (component, bytes) =>
      logger.warn(
        { component, bytes },
        'output of this component is being dropped: stdout is gone or not read (said once; counted in s7supervisor_log_dropped_bytes_total)',
      ),
  });
}

function configureBuffers(buffers: LogBuffers, registry: Registry): Registry {
  buffers.configure(registry.config.logBuffer.lines);
  return registry;
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

/** under npm, a SIGINT this soon after the one that began the stop is the same Ctrl-C, delivered twice */
const SAME_INTERRUPT_MS = 500;

/** run by an npm script (npm sets npm_lifecycle_event) from a terminal: npm forwards its SIGINT to us */
function underNpmOnTerminal(): boolean {
  return process.env.npm_lifecycle_event !== undefined && process.stdin.isTTY === true;
}

/** Registry mode: TERM/INT stop in order (a second one kills), HUP reloads, USR1/USR2 pass on. */
async function superviseRegistry(supervisor: Supervisor, logger: Logger): Promise<number> {
  let forced: number | undefined;
  let firstInterruptAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    switch (signal) {
      case 'SIGTERM':
      case 'SIGINT':
        // One Ctrl-C under `npm start` arrives twice: from the terminal (we are in its foreground
        // process group) and forwarded by npm. The SIGINT right after the one that began the stop
        // is that same keypress, not a second one: it neither cuts the drain short nor forces.
        if (
          signal === 'SIGINT' &&
          firstInterruptAt !== undefined &&
          Date.now() - firstInterruptAt < SAME_INTERRUPT_MS
        ) {
          firstInterruptAt = undefined;
          logger.debug({ signal }, 'the same Ctrl-C again (from the terminal and from npm): ignored');
          return;
        }
        // during the shutdown delay a second signal only cuts the delay short (design.md §3 rev. 2):
        // the components still get their stop signal; the one after that forces
        if (supervisor.skipDrain()) return;
        if (supervisor.phase !== 'starting' && supervisor.phase !== 'running') {
          logger.warn({ signal }, `second ${signal}: SIGKILL to every component`);
          supervisor.killAll();
          forced = exitForSignal(signalNumber(signal));
          void flushLogger(logger).then(() => process.exit(forced));
          return;
        }
        if (signal === 'SIGINT' && underNpmOnTerminal()) firstInterruptAt = Date.now();
        logger.info({ signal }, `${signal} received: stopping`);
        void supervisor.drainAndShutdown(`signal ${signal}`);
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
  return forced ?? (outcome.kind === 'gave-up' ? EXIT_GAVE_UP : EXIT_STOPPED);
}

/** Tini mode: every signal goes on to the child; its exit (or 127/126) is ours. */
async function superviseOneCommand(
  supervisor: Supervisor,
  logger: Logger,
  terminal: ChildTerminal | undefined,
): Promise<number> {
  const onSignal = (signal: NodeJS.Signals) => {
    // After TERM/INT the child is on its way down: whatever its policy, it is not restarted.
    if (signal === 'SIGTERM' || signal === 'SIGINT') supervisor.disableRestarts();
    logger.debug({ signal }, 'passing signal on');
    supervisor.forwardSignal(signal);
  };
  // on a terminal, SIGTTIN and SIGTTOU are the terminal's word to us (we are in the background
  // once the command holds it): ignored, not passed on (tini does the same)
  const forwarded = terminal
    ? forwardableSignals.filter((s) => s !== 'SIGTTIN' && s !== 'SIGTTOU')
    : forwardableSignals;
  const removeForward = onSignals(forwarded, onSignal);
  const early = releaseEarlySignals();
  // after the release: taking a handler off resets the disposition to the default
  if (terminal) ignoreTerminalStops();
  const settled = new Promise<void>((resolve) => {
    supervisor.on('state', (status) => {
      if (status.state === 'stopped' || status.state === 'fatal') resolve();
    });
  });
  void supervisor.startAll();
  // as tini does: what came before the child existed is passed on once it does (the child is
  // being started now, and gets them as soon as it has a pid)
  for (const signal of early) if (forwarded.includes(signal)) onSignal(signal);
  const ended = await Promise.race([settled.then(() => 'settled' as const), supervisor.outcome]);
  removeForward();
  const main = supervisor.component(tiniComponentId);
  if (ended !== 'settled') return ended.kind === 'gave-up' ? EXIT_GAVE_UP : (main?.lastExit?.code ?? 0);
  await supervisor.shutdown('the command ended');
  if (main?.startError) return main.startError.code === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
  return main?.lastExit?.code ?? 0;
}
