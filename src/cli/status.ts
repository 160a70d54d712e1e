// `s7supervisor status [ID]`: what `ImageServing status` showed, from the running supervisor.
import type { ComponentJson } from '../view/component-json.js';
import { ControlClient, ControlError, controlExit, controlExitHelp } from './control-client.js';
import { componentPath, controlCommand, listComponents, refusal } from './control-command.js';
import { findControlSocket, socketOptions, socketOptionsHelp } from './control-options.js';
import { UsageError } from './errors.js';
import { parseCommandOptions } from './options.js';
import { formatStatusTable } from './status-table.js';

export const statusHelp = `usage: s7supervisor status [ID] [--json] [--socket PATH] [--registry FILE] [--home DIR]

Shows the components of the running supervisor, one row each: id, state, ready, pid, uptime,
restarts, memory (resident, of its whole process group), last exit, and a note saying why it is
not ready. With ID, that component only.

options:
  --json              the status as JSON, as GET /api/v1/components[/ID] answers it (for scripts)
${socketOptionsHelp}

${controlExitHelp}`;

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandOptions(
    'status',
    argv,
    { ...socketOptions, json: { type: 'boolean' } },
    { usage: statusHelp, allowPositionals: true },
  );
  if (values.help) {
    process.stdout.write(`${statusHelp}\n`);
    return 0;
  }
  if (positionals.length > 1)
    throw new UsageError(`status: one component id at most, not '${positionals.join(' ')}'\n\n${statusHelp}`);
  const id = positionals[0];
  return controlCommand(async () => {
    const client = new ControlClient(findControlSocket(values, process.env));
    if (id === undefined) {
      const list = await listComponents(client);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return 0;
      }
      process.stdout.write(`${formatStatusTable(list.components)}\n`);
      if (list.phase && list.phase !== 'running')
        process.stdout.write(`(the supervisor is ${list.phase === 'gave-up' ? 'giving up' : list.phase})\n`);
      return 0;
    }
    const answer = await client.get(componentPath(id));
    if (answer.status !== 200) throw await refusal(client, answer, id);
    const component = answer.json as ComponentJson | undefined;
    if (!component || typeof component.id !== 'string')
      throw new ControlError(
        `unexpected answer from the supervisor: ${answer.text.slice(0, 200)}`,
        controlExit.failed,
      );
    process.stdout.write(
      values.json ? `${JSON.stringify(component, null, 2)}\n` : `${formatStatusTable([component])}\n`,
    );
    return 0;
  });
}
