// Writing registries for tests: a temp install folder with conf/SupervisorRegistry.xml.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './paths.js';

export interface TestServer {
  id: string;
  command: string;
  args?: string[];
  priority?: number;
  startDelay?: number;
  stopTimeout?: number;
  env?: Record<string, string>;
  /** raw XML added inside <server> (restart, readiness, output...) */
  extra?: string;
}

/** Creates a home folder with a registry; returns the home. HTTP is off unless `port` is given. */
export function writeRegistry(servers: TestServer[], config = ''): string {
  const home = makeTempDir('s7sup-home-');
  mkdirSync(join(home, 'conf'));
  const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const xml = `<?xml version="1.0"?>
<supervisor>
  <config>
    <temp>temp</temp>
    ${config}
  </config>
  <servers>
${servers
  .map(
    (s) => `    <server id="${s.id}">
      <command>${xmlEscape(s.command)}</command>
      <arguments>${(s.args ?? []).map((a) => `<argument>${xmlEscape(a)}</argument>`).join('')}</arguments>
      ${
        s.env
          ? `<environment>${Object.entries(s.env)
              .map(([k, v]) => `<variable name="${k}">${xmlEscape(v)}</variable>`)
              .join('')}</environment>`
          : ''
      }
      <startPriority>${s.priority ?? 1}</startPriority>
      <startDelay>${s.startDelay ?? 0}</startDelay>
      <stopTimeout>${s.stopTimeout ?? 5}</stopTimeout>
      ${s.extra ?? ''}
    </server>`,
  )
  .join('\n')}
  </servers>
</supervisor>
`;
  writeFileSync(join(home, 'conf/SupervisorRegistry.xml'), xml);
  return home;
}
