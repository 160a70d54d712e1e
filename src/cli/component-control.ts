// `s7supervisor start ID`, `stop ID`, `restart [ID]`: ask the running supervisor, then (unless
// --no-wait) follow the component until it got there, as supervisorctl and systemctl do, so that
// `docker exec ... s7supervisor restart is && next-step` means "is is back".
import type { ComponentJson } from '../view/component-json.js';
import { formatNote } from '../view/format.js';
import { ControlClient, ControlError, controlExit, controlExitHelp } from './control-client.js';
import {
  componentPath,
  controlCommand,
  listComponents,
  refusal,
  unknownComponent,
} from './control-command.js';
import { findControlSocket, socketOptions, socketOptionsHelp } from './control-options.js';
import { UsageError } from './errors.js';
import { parseCommandOptions } from './options.js';

type Verb = 'start' | 'stop' | 'restart';

const DEFAULT_TIMEOUT_SECONDS = 60;
const POLL_MS = 100;

const what: Record<Verb, { usage: string; does: string; done: string }> = {
  start: {
    usage: 'start ID',
    does: `Starts a component that is stopped (by an operator, or after exiting under its restart policy)
or that was given up on (fatal), and waits until it is running (ready). A component stopped by an
operator stays stopped until started again.`,
    done: 'running',
  },
  stop: {
    usage: 'stop ID',
    does: `Stops a component (its stop signal to its process group, SIGKILL after its stopTimeout) and
waits until it is stopped. It stays stopped, not restarted, until \`start\` or \`restart\`; meanwhile
/readyz fails for a critical component and says "stopped by operator".`,
    done: 'stopped',
  },
  restart: {
    usage: 'restart [ID]',
    does: `Stops and starts a component again (without ID: every component, each on its own, a stopped one
included) and waits until it runs again with a new process.`,
    done: 'running',
  },
};

function help(verb: Verb): string {
  return `usage: s7supervisor ${what[verb].usage} [--no-wait] [--timeout SECONDS] [--socket PATH] [--registry FILE] [--home DIR]

${what[verb].does}

options:
  --no-wait           return once the supervisor has taken the request
  --timeout SECONDS   how long to wait (default ${DEFAULT_TIMEOUT_SECONDS}); past it, exit 1 (the supervisor goes on)
${socketOptionsHelp}

${controlExitHelp}`;
}

export const startCommand = (argv: string[]) => control('start', argv);
export const stopCommand = (argv: string[]) => control('stop', argv);
export const restartCommand = (argv: string[]) => control('restart', argv);

async function control(verb: Verb, argv: string[]): Promise<number> {
  const usage = help(verb);
  const { values, positionals } = parseCommandOptions(
    verb,
    argv,
    { ...socketOptions, 'no-wait': { type: 'boolean' }, timeout: { type: 'string' } },
    { usage, allowPositionals: true },
  );
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`${verb}: one component id at most\n\n${usage}`);
  const id = positionals[0];
  if (id === undefined && verb !== 'restart')
    throw new UsageError(`${verb}: which component? (${verb} ID)\n\n${usage}`);
  const timeout = values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || !/^\d+(\.\d+)?$/.test(values.timeout ?? '1'))
    throw new UsageError(`${verb}: --timeout must be a number of seconds above 0, not '${values.timeout}'`);

  return controlCommand(async () => {
    const client = new ControlClient(findControlSocket(values, process.env));
    const before = (await listComponents(client)).components;
    if (id !== undefined && !before.some((c) => c.id === id)) throw await unknownComponent(client, id);
    const answer = await client.post(id === undefined ? '/api/v1/restart' : componentPath(id, verb));
    if (answer.status !== 200) throw await refusal(client, answer, id);
    // a restart of everything leaves what an operator stopped as it is (design.md §3)
    const targets =
      id === undefined ? before.filter((c) => !c.stoppedByOperator) : before.filter((c) => c.id === id);
    if (id === undefined)
      for (const c of before)
        if (c.stoppedByOperator) process.stdout.write(`${c.id}: stopped by an operator, left as it is\n`);
    if (values['no-wait']) {
      for (const c of targets) process.stdout.write(`${c.id}: ${verb} requested\n`);
      return controlExit.ok;
    }
    return follow(client, verb, targets, timeout * 1000);
  });
}

type Progress = { done: true; line: string } | { done: false; failed?: string; waiting: string };

/** where a component stands after the request: arrived, failed, or still on its way */
function progress(verb: Verb, before: ComponentJson, now: ComponentJson | undefined): Progress {
  if (!now) return { done: false, failed: `${before.id} was removed (by a reload)`, waiting: '' };
  const note = formatNote(now);
  if (verb === 'stop') {
    if (now.state === 'stopped' || now.state === 'fatal')
      return { done: true, line: `${now.id}: ${now.state}` };
    return { done: false, waiting: `${now.id} is still ${now.state}` };
  }
  // a start of a running component has nothing to do; otherwise it must be a new run
  const newRun = now.startedAt !== before.startedAt || (verb === 'start' && before.state === 'running');
  if (now.state === 'running' && newRun) return { done: true, line: `${now.id}: running, pid ${now.pid}` };
  // a oneshot's run is done when it completed (exit 0)
  if (now.state === 'completed' && now.startedAt !== before.startedAt)
    return { done: true, line: `${now.id}: completed (exit code 0)` };
  // an ordered restart of everything: stopped until its priority group's turn comes
  if (now.state === 'stopped' && now.restartPending)
    return { done: false, waiting: `${now.id} waits for its turn` };
  if (now.state === 'fatal' || now.state === 'backoff' || now.state === 'stopped')
    return {
      done: false,
      failed: `${now.id} did not start: ${now.state}${note ? ` (${note})` : ''}`,
      waiting: '',
    };
  return {
    done: false,
    waiting: `${now.id} is still ${now.state}${note && note !== now.state ? ` (${note})` : ''}`,
  };
}

async function follow(client: ControlClient, verb: Verb, targets: ComponentJson[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const pending = new Map(targets.map((c) => [c.id, c]));
  let failures = 0;
  let waiting: string[] = [];
  while (pending.size > 0) {
    const byId = new Map((await listComponents(client)).components.map((c) => [c.id, c]));
    waiting = [];
    for (const [id, before] of pending) {
      const step = progress(verb, before, byId.get(id));
      if (step.done) {
        process.stdout.write(`${step.line}\n`);
        pending.delete(id);
      } else if (step.failed) {
        process.stderr.write(`s7supervisor: ${step.failed}\n`);
        failures += 1;
        pending.delete(id);
      } else {
        waiting.push(step.waiting);
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline)
      throw new ControlError(
        `${waiting.join('; ')} after ${timeoutMs / 1000} s (the supervisor goes on; --timeout to wait longer)`,
        controlExit.failed,
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return failures > 0 ? controlExit.failed : controlExit.ok;
}
