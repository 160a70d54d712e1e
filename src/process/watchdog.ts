// Not as PID 1 (a daemon on a host, --subreaper): when the supervisor dies, even by SIGKILL, its
// components must die with it, or the next supervisor meets two copies of each holding their
// ports (design.md §3 rev. 2). As PID 1 the kernel does this: the namespace ends with its init.
//
// A parent-death signal (PR_SET_PDEATHSIG) would reach only each component's main process, not
// its workers. So a small shell, in a session of its own, keeps the list of live process groups
// and holds the read end of a pipe from us: when the pipe ends without a goodbye, we are gone,
// and it SIGKILLs every group on the list. Our end of the pipe is close-on-exec, so no component
// can hold it open for us.
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { loadNative } from './native.js';
import { spawnProcess } from './spawn.js';

const WATCHDOG_SCRIPT = `
trap '' HUP INT QUIT TERM USR1 USR2 PIPE
groups=''
while read -r verb pgid; do
  case $verb in
    add) groups="$groups $pgid" ;;
    del) kept=''; for g in $groups; do [ "$g" = "$pgid" ] || kept="$kept $g"; done; groups=$kept ;;
    bye) exit 0 ;;
  esac
done
for g in $groups; do kill -9 "-$g" 2>/dev/null; done
`;

export interface Watchdog {
  /** a component's process group came to be */
  started(pgid: number): void;
  /** it is gone (its id may be reused from now on: it must leave the list) */
  gone(pgid: number): void;
  /** a clean exit: the watchdog leaves without killing anything */
  close(): void;
}

/** Starts the watchdog; resolves to undefined (after saying why) when it cannot be started. */
export async function startWatchdog(onProblem: (message: string) => void): Promise<Watchdog | undefined> {
  let readFd: number;
  let writeFd: number;
  try {
    [readFd, writeFd] = loadNative().makePipe();
  } catch (error) {
    onProblem(
      `no parent-death watchdog (${(error as Error).message}): components would outlive a killed supervisor`,
    );
    return undefined;
  }
  try {
    const { pid } = await spawnProcess({
      file: '/bin/sh',
      args: ['-c', WATCHDOG_SCRIPT],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: [readFd, 'ignore', 'ignore'],
      newGroup: true,
    });
    // Each start and end of a component wakes it (one line each). Woken on our CPU, a task of the
    // usual policy runs before us, in the middle of a restart; a SCHED_BATCH one waits its turn
    // (and keeps its fair share, so it acts all the same once we are gone). Best effort.
    loadNative().setBatchPolicy(pid);
  } catch (error) {
    closeSync(writeFd);
    onProblem(
      `no parent-death watchdog (${(error as Error).message}): components would outlive a killed supervisor`,
    );
    return undefined;
  } finally {
    closeSync(readFd);
  }
  // written through the event loop (non-blocking on our side): a stalled watchdog cannot stall us
  const pipe = new Socket({ fd: writeFd, readable: false, writable: true });
  let open = true;
  pipe.on('error', (error) => {
    if (!open) return;
    open = false;
    onProblem(`the parent-death watchdog is gone (${error.message})`);
  });
  const send = (line: string) => {
    if (open) pipe.write(`${line}\n`);
  };
  return {
    started: (pgid) => send(`add ${pgid}`),
    gone: (pgid) => send(`del ${pgid}`),
    close: () => {
      if (open) pipe.end('bye\n');
      open = false;
    },
  };
}
