// The frame of every control command: parse, find the socket, talk, and turn a ControlError
// (no supervisor, unknown id, refused) into its message on stderr and its exit code.
import type { ComponentJson } from '../view/component-json.js';
import {
  answerMessage,
  type ControlAnswer,
  type ControlClient,
  ControlError,
  controlExit,
} from './control-client.js';

/** Runs `body`; a ControlError is said on stderr and becomes the exit code. */
export async function controlCommand(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof ControlError)) throw error;
    process.stderr.write(`s7supervisor: ${error.message}\n`);
    return error.exitCode;
  }
}

export interface ComponentList {
  version?: string;
  phase?: string;
  components: ComponentJson[];
}

export async function listComponents(client: ControlClient): Promise<ComponentList> {
  const answer = await client.get('/api/v1/components');
  const list = answer.json as ComponentList | undefined;
  if (answer.status !== 200 || !list || !Array.isArray(list.components))
    throw new ControlError(answerMessage(answer), controlExit.failed);
  return list;
}

export function componentPath(id: string, action?: string): string {
  return `/api/v1/components/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

/** The 404 of an unknown id, naming the ids there are, so a typo is seen at once. */
export async function unknownComponent(client: ControlClient, id: string): Promise<ControlError> {
  let known = '';
  try {
    const ids = (await listComponents(client)).components.map((c) => c.id);
    known = ids.length > 0 ? ` (the components are: ${ids.join(', ')})` : ' (there are no components)';
  } catch {
    // the list is a courtesy: the answer stands without it
  }
  return new ControlError(`no component "${id}"${known}`, controlExit.unknownComponent);
}

/** An answer that is not 2xx, as the error it means. */
export async function refusal(
  client: ControlClient,
  answer: ControlAnswer,
  id?: string,
): Promise<ControlError> {
  if (answer.status === 404 && id !== undefined && answer.json !== undefined)
    return unknownComponent(client, id);
  if (answer.status === 422) return new ControlError(answerMessage(answer), controlExit.usage);
  return new ControlError(answerMessage(answer), controlExit.failed);
}
