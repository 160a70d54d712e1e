// `convert`'s core: read a file, tell its format (by name, then by content), convert it with the
// reader of that format, and write the registry XML.

import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ConvertError, type SourceFormat } from './model.js';
import { convertProcessCompose } from './process-compose.js';
import { convertProcfile } from './procfile.js';
import { convertSupervisord } from './supervisord.js';
import { writeRegistryXml, XmlValueError } from './xml.js';

/** convert reads what people write by hand; anything bigger is not one of these files */
const MAX_BYTES = 1024 * 1024;

const supervisordSection =
  /^\s*\[(program|supervisord|group|include|eventlistener|fcgi-program|unix_http_server|inet_http_server|supervisorctl|rpcinterface)(:[^\]]*)?\]/m;
const procfileLine = /^[A-Za-z0-9_-]+:\s*\S/;

export function detectFormat(file: string, text: string): SourceFormat | undefined {
  const name = basename(file).toLowerCase();
  if (/^procfile(\..*)?$/.test(name) || name.endsWith('.procfile')) return 'procfile';
  if (/^(process-compose|compose)([.-].*)?\.ya?ml$/.test(name)) return 'process-compose';
  if (/^supervisord?([.-].*)?\.conf$/.test(name)) return 'supervisord';
  if (supervisordSection.test(text)) return 'supervisord';
  if (/^processes\s*:/m.test(text)) return 'process-compose';
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  if (lines.length > 0 && lines.every((line) => procfileLine.test(line.trim()))) return 'procfile';
  if (/\.ya?ml$/.test(name)) return 'process-compose';
  if (/\.(conf|ini)$/.test(name)) return 'supervisord';
  return undefined;
}

function readSource(file: string): string {
  let size: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new ConvertError(file, undefined, 'is a folder: give the file to convert');
    size = stat.size;
  } catch (error) {
    if (error instanceof ConvertError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConvertError(
      file,
      undefined,
      code === 'ENOENT' ? 'no such file' : `cannot read: ${(error as Error).message}`,
    );
  }
  if (size > MAX_BYTES)
    throw new ConvertError(file, undefined, `is ${size} bytes: more than 1 MiB is not a file convert reads`);
  try {
    return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw new ConvertError(file, undefined, `cannot read: ${(error as Error).message}`);
  }
}

/** The registry XML for `file`; a ConvertError (one line naming the file) when it cannot be had. */
export function convertFile(file: string, format?: SourceFormat): string {
  const text = readSource(file);
  const detected = format ?? detectFormat(file, text);
  if (detected === undefined)
    throw new ConvertError(
      file,
      undefined,
      'cannot tell what this is: expected a supervisord.conf ([program:x] sections), a Procfile ("name: command" lines) or a process-compose.yaml (processes:)',
    );
  const registry =
    detected === 'supervisord'
      ? convertSupervisord(text, file)
      : detected === 'procfile'
        ? convertProcfile(text, file)
        : convertProcessCompose(text, file);
  try {
    return writeRegistryXml(registry);
  } catch (error) {
    if (error instanceof XmlValueError) throw new ConvertError(file, undefined, error.message);
    throw error;
  }
}
