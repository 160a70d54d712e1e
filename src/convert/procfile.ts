// Procfile to registry servers. Each `name: command` line is a process type, run through a shell
// as Heroku, foreman and honcho do; all of them start together (one priority group) and are
// restarted whenever they exit, as Heroku restarts a crashed dyno. `release` is Heroku's
// release phase, run once per deploy rather than in every dyno: it is noted, not supervised.

import { ConvertError, type ConvertedRegistry, type ConvertedServer, literal, uniqueIds } from './model.js';
import { fromShellLine } from './shell.js';

/** the line format Heroku and foreman accept */
const ENTRY = /^([A-Za-z0-9_-]+):\s*(.+)$/;
/** foreman gives process type N the port 5000 + 100 N */
const FIRST_PORT = 5000;

export function convertProcfile(text: string, file: string): ConvertedRegistry {
  const notes: string[] = [];
  const servers: ConvertedServer[] = [];
  const names: string[] = [];
  let processTypes = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const entry = ENTRY.exec(line);
    if (!entry)
      throw new ConvertError(
        file,
        index + 1,
        `not a Procfile line: expected "name: command" (letters, digits, "_" and "-" in the name), got ${JSON.stringify(line.slice(0, 60))}`,
      );
    const [, name = '', command = ''] = entry;
    const port = FIRST_PORT + 100 * processTypes++;
    if (name === 'release') {
      notes.push(
        `release: ${command}\nnot supervised: Heroku runs the release phase once per deploy, before the new processes start, not in every container: run it in your image build or entrypoint`,
      );
      return;
    }
    const { command: program, args } = fromShellLine(command);
    const server: ConvertedServer = {
      id: '',
      notes: [],
      command: literal(program),
      args: args.map(literal),
      env: [],
    };
    if (/\$\{?PORT\b/.test(command)) {
      // the platform sets PORT (foreman: 5000 + 100 per process type); an inherited one still wins
      server.env.push(['PORT', `\${PORT:-${port}}`]);
      server.notes.push(
        `uses $PORT, which Heroku and foreman set: PORT is the supervisor's own PORT if set, else ${port} as foreman would give it`,
      );
    }
    servers.push(server);
    names.push(name);
  });
  if (servers.length === 0)
    throw new ConvertError(
      file,
      undefined,
      'no process types: expected lines such as "web: bundle exec puma"',
    );
  notes.push(
    'Procfile: every process type starts at once (one priority group) and is restarted whenever it exits, as Heroku restarts a crashed dyno (foreman would stop them all instead)',
  );
  uniqueIds(servers, names);
  return { source: file, format: 'procfile', notes, servers };
}
