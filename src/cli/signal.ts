// `s7supervisor signal ID SIGNAL` (design.md §1 rev. 2): send a signal to a component's process
// group through the running supervisor, e.g. `HUP` to make nginx re-read its configuration.
import { parseSignalArgument } from '../process/signals.js';
import { answerMessage, ControlClient, controlExit, controlExitHelp } from './control-client.js';
import { componentPath, controlCommand, refusal } from './control-command.js';
import { findControlSocket, socketOptions, socketOptionsHelp } from './control-options.js';
import { UsageError } from './errors.js';
import { parseCommandOptions } from './options.js';

export const signalHelp = `usage: s7supervisor signal ID SIGNAL [--socket PATH] [--registry FILE] [--home DIR]

Sends SIGNAL to every process of the component's process group, as kill -SIGNAL -PGID would. SIGNAL
is a name (HUP, SIGHUP, hup) or a number (1). The supervisor does nothing else: the component
decides what the signal means (nginx and many daemons re-read their configuration on HUP). A
component without a running process (stopped, waiting to restart) cannot be signalled.

options:
${socketOptionsHelp}

${controlExitHelp} An unknown signal is a usage error (2).`;

export async function signalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandOptions('signal', argv, socketOptions, {
    usage: signalHelp,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${signalHelp}\n`);
    return 0;
  }
  const [id, signal, ...extra] = positionals;
  if (id === undefined || signal === undefined)
    throw new UsageError(`signal: which component and which signal? (signal ID SIGNAL)\n\n${signalHelp}`);
  if (extra.length > 0) throw new UsageError(`signal: unexpected argument '${extra[0]}'\n\n${signalHelp}`);
  // checked here too, so a typo is said at once, with or without a supervisor
  if (!parseSignalArgument(signal))
    throw new UsageError(`signal: unknown signal '${signal}' (a name such as HUP, USR1, TERM, or a number)`);
  return controlCommand(async () => {
    const client = new ControlClient(findControlSocket(values, process.env));
    const answer = await client.post(componentPath(id, 'signal'), { signal });
    if (answer.status !== 200) throw await refusal(client, answer, id);
    process.stdout.write(`${answerMessage(answer)}\n`);
    return controlExit.ok;
  });
}
