// The ProcessHost of a real run, over node:child_process (spawn.ts), process.kill on groups
// (group.ts) and Node's timers. Components and exec checks both launch through it, so a <user>,
// the withheld environment and the classification of start failures are the same for both.

import { childEnvironment } from './environment.js';
import { signalGroup, waitGroupGone } from './group.js';
import type { Clock, Launched, LaunchSpec, ProcessHost, Timer } from './host.js';
import { type StdioSlot, spawnProcess } from './spawn.js';
import { SpawnError } from './spawn-error.js';
import { childStdio, releaseChildStdio } from './stdio.js';
import { firstTime, planSpawn } from './users.js';

export interface NodeHostOptions {
  /** said once per distinct text (setpriv missing: a <user> runs without its supplementary groups) */
  warn?: (message: string) => void;
}

export const nodeClock: Clock = {
  now: () => Date.now(),
  after(ms, callback, options) {
    const timer = setTimeout(callback, ms);
    if (options?.unref) timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  soon(callback): Timer {
    const immediate = setImmediate(callback);
    return { cancel: () => clearImmediate(immediate) };
  },
};

export function nodeProcessHost(options: NodeHostOptions = {}): ProcessHost {
  return {
    launch: (spec) => launch(spec, options),
    signalGroup,
    waitGroupGone,
    clock: nodeClock,
  };
}

async function launch(spec: LaunchSpec, options: NodeHostOptions): Promise<Launched> {
  // <user>: setpriv with the user's groups, HOME, USER and LOGNAME (users.ts)
  const planned = planSpawn({ command: spec.command, args: spec.args, env: spec.env ?? {} }, spec.user);
  if (!planned.ok) throw new SpawnError(planned.message, planned.code, true);
  const { plan } = planned;
  if (plan.warning && firstTime(plan.warning)) options.warn?.(plan.warning);
  const captured = spec.output !== 'inherit';
  const stdio: StdioSlot[] = [
    spec.stdin,
    captured ? 'pipe' : childStdio(1),
    captured ? 'pipe' : childStdio(2),
  ];
  if (spec.readyFd !== undefined) {
    while (stdio.length < spec.readyFd) stdio.push('ignore');
    stdio[spec.readyFd] = 'pipe';
  }
  const started = spawnProcess({
    file: plan.file,
    args: plan.args,
    ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
    env: childEnvironment(plan.env),
    ...(plan.uid !== undefined ? { uid: plan.uid, gid: plan.gid } : {}),
    stdio,
    relayOutput: spec.output === 'relay',
    newGroup: true,
    ...(spec.terminal ? { terminal: spec.terminal } : {}),
  });
  // the child has its own descriptors by now: our reopened copies of stdout/stderr can go
  releaseChildStdio(stdio);
  const { pid, pipes, exited } = await started;
  const stdout = pipes.get(1);
  const stderr = pipes.get(2);
  const readyPipe = spec.readyFd !== undefined ? pipes.get(spec.readyFd) : undefined;
  return {
    pid,
    exited,
    ...(stdout ? { stdout } : {}),
    ...(stderr ? { stderr } : {}),
    ...(readyPipe ? { readyPipe } : {}),
  };
}
