// `s7supervisor reload`: the running supervisor re-reads its registry (as on SIGHUP) and says
// what it changed, or why the file was refused (then nothing changed).
import { answerMessage, ControlClient, controlExit, controlExitHelp } from './control-client.js';
import { controlCommand, refusal } from './control-command.js';
import { findControlSocket, socketOptions, socketOptionsHelp } from './control-options.js';
import { parseCommandOptions } from './options.js';

export const reloadHelp = `usage: s7supervisor reload [--json] [--socket PATH] [--registry FILE] [--home DIR]

Makes the running supervisor re-read its registry file, as SIGHUP does, and prints what changed.
An invalid file changes nothing: its problems are printed and the exit code is 2. A valid one is
applied as a difference: removed servers stop, new ones start in priority order, servers whose
process definition (command, arguments, environment, working directory, user, output, checks,
stop signal) changed restart, servers where only description, critical, startPriority,
startDelay, stopTimeout or restart settings changed keep their process, the rest are untouched.
It returns once the change is under way: \`s7supervisor status\` shows the components coming up.
A new <tcpport>, <host> or <temp> moves the HTTP endpoints or the control socket (unless --port,
--host, --socket or their variables chose them); one that cannot move (a port taken) stays where
it is, the answer says why, and the exit code is 1.

options:
  --json              the supervisor's answer as JSON ({ ok, message, changes: { added, removed,
                      restarted, updated, unchanged } })
${socketOptionsHelp}

${controlExitHelp}`;

export async function reloadCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandOptions(
    'reload',
    argv,
    { ...socketOptions, json: { type: 'boolean' } },
    { usage: reloadHelp },
  );
  if (values.help) {
    process.stdout.write(`${reloadHelp}\n`);
    return 0;
  }
  return controlCommand(async () => {
    const client = new ControlClient(findControlSocket(values, process.env));
    const answer = await client.post('/api/v1/reload');
    if (values.json && answer.json !== undefined)
      process.stdout.write(`${JSON.stringify(answer.json, null, 2)}\n`);
    if (answer.status !== 200) throw await refusal(client, answer);
    if (!values.json) process.stdout.write(`${answerMessage(answer)}\n`);
    // applied, but a listener could not move (a port taken...): the answer says which, and why
    const warnings = (answer.json as { warnings?: unknown } | undefined)?.warnings;
    return Array.isArray(warnings) && warnings.length > 0 ? controlExit.failed : controlExit.ok;
  });
}
