import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRegistry } from '../../src/registry/load.js';
import type { Registry, RestartSpec } from '../../src/registry/model.js';
import { repoRoot } from '../helpers/paths.js';

const file = join(repoRoot, 'test/fixtures/original/SupervisorRegistry.xml');
const home = '/srv/s7';
const restartDefaults: RestartSpec = { policy: 'always', backoffInitial: 1, backoffMax: 30, resetAfter: 10 };

test('the original layout parses element for element into the resolved model', () => {
  const expected: Registry = {
    file,
    home,
    config: {
      tcpport: 9910,
      host: '0.0.0.0',
      log: '/srv/s7/logs/Supervisor.log',
      temp: '/srv/s7/temp',
      tracelevel: 2,
      tracestatsinterval: 600,
      restartIntensity: { max: 10, period: 60 },
      logBuffer: { lines: 1000 },
      // longest stop timeout of priority 1 (is: 60, svg: 30) + priority 2 (ps: 90) + 5
      shutdownTimeout: 155,
      shutdownDelay: 0,
      logRetentionDays: 14,
    },
    servers: [
      {
        id: 'is',
        description: 'Image Server',
        command: '/srv/s7/bin/ImageServer',
        args: ['-port', '27345', '-config', 'conf/ImageServer.xml'],
        shown: {
          command: '/srv/s7/bin/ImageServer',
          args: ['-port', '27345', '-config', 'conf/ImageServer.xml'],
        },
        env: { LD_LIBRARY_PATH: 'lib', TZ: 'UTC', IS_HOME: '/opt/s7/ImageServing' },
        envFiles: [],
        workingDirectory: '/srv/s7/bin',
        startPriority: 1,
        startDelay: 5,
        stopTimeout: 60,
        stopSignal: 'SIGTERM',
        restart: restartDefaults,
        critical: true,
        output: 'json',
        kind: 'longrun',
        dependsOn: [],
      },
      {
        id: 'svg',
        description: 'SVG Renderer',
        command: '/srv/s7/bin/svgrender',
        args: ['-port', '27346'],
        shown: { command: '/srv/s7/bin/svgrender', args: ['-port', '27346'] },
        env: { LD_LIBRARY_PATH: 'lib', TZ: 'UTC' },
        envFiles: [],
        workingDirectory: '/srv/s7/bin',
        startPriority: 1,
        startDelay: 2,
        stopTimeout: 30,
        stopSignal: 'SIGTERM',
        restart: restartDefaults,
        critical: true,
        output: 'json',
        kind: 'longrun',
        dependsOn: [],
      },
      {
        id: 'ps',
        description: 'Platform Server',
        command: '/srv/s7/PlatformServer/bin/catalina.sh',
        args: ['run', '-Dcatalina.base=PlatformServer'],
        shown: {
          command: '/srv/s7/PlatformServer/bin/catalina.sh',
          args: ['run', '-Dcatalina.base=PlatformServer'],
        },
        env: {
          LD_LIBRARY_PATH: 'lib',
          TZ: 'Europe/Berlin',
          CATALINA_OPTS: '-Xmx1024m -Dfile.encoding=UTF-8',
        },
        envFiles: [],
        workingDirectory: '/srv/s7/PlatformServer',
        startPriority: 2,
        startDelay: 10,
        stopTimeout: 90,
        stopSignal: 'SIGTERM',
        restart: restartDefaults,
        critical: true,
        output: 'json',
        kind: 'longrun',
        dependsOn: [],
      },
    ],
  };
  assert.deepEqual(loadRegistry(file, home, {}), expected);
});

test('the original file parses the same with CRLF line ends and a byte order mark', async () => {
  const { readFileSync } = await import('node:fs');
  const { parseRegistry } = await import('../../src/registry/load.js');
  const text = `\uFEFF${readFileSync(file, 'utf8').replace(/\n/g, '\r\n')}`;
  assert.deepEqual(parseRegistry(text, file, home, {}), loadRegistry(file, home, {}));
});
