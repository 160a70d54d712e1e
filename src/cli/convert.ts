// `s7supervisor convert FILE`: a supervisord.conf, Procfile or process-compose.yaml as a
// SupervisorRegistry.xml on stdout (design.md §1), with a comment for every setting that has no
// equivalent. Exit 0 with the XML; 2 with one line naming the file when it cannot be converted.

import { convertFile } from '../convert/convert.js';
import { ConvertError, type SourceFormat } from '../convert/model.js';
import { UsageError } from './errors.js';
import { parseCommandOptions } from './options.js';

export const convertHelp = `usage: s7supervisor convert FILE [--format supervisord|procfile|process-compose]

Prints a SupervisorRegistry.xml equivalent to FILE: a supervisord.conf ([program:x] sections), a
Procfile ("name: command" lines) or a process-compose.yaml. Each setting that has no equivalent,
and each mapping worth knowing (depends_on as start priorities), is an XML comment beside its
server. The format is told from the file's name, then from its content.

    s7supervisor convert /etc/supervisor/supervisord.conf > conf/SupervisorRegistry.xml
    s7supervisor check --registry conf/SupervisorRegistry.xml

options:
  --format FORMAT     read FILE as this format, whatever its name and content
  -h, --help          this text

exit codes: 0 converted (the XML is on stdout); 2 FILE cannot be read or converted (one line on
  stderr naming the file, and the line when known), or usage error.`;

const formats: readonly SourceFormat[] = ['supervisord', 'procfile', 'process-compose'];

export async function convertCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandOptions(
    'convert',
    argv,
    { format: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    { usage: convertHelp, allowPositionals: true },
  );
  if (values.help) {
    process.stdout.write(`${convertHelp}\n`);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError(`convert: which file?\n\n${convertHelp}`);
  if (extra.length > 0) throw new UsageError(`convert: one file at a time, not also '${extra[0]}'`);
  const format = values.format;
  if (format !== undefined && !formats.includes(format as SourceFormat))
    throw new UsageError(`convert: --format must be ${formats.join(', ')}, not '${format}'`);
  let xml: string;
  try {
    xml = convertFile(file, format as SourceFormat | undefined);
  } catch (error) {
    if (!(error instanceof ConvertError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  process.stdout.write(xml);
  return 0;
}
