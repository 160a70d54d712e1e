// `s7supervisor convert` through the real CLI, on realistic files: its output is accepted by
// `check` unchanged, every setting without an equivalent is a comment, and a file that cannot be
// converted is one line naming it, exit 2.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';

after(killAllStarted);

const fixtures = join(repoRoot, 'test/convert/fixtures');
const stackTrace = /^\s+at .*:\d+:\d+\)?$/m;

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = runCli(args, { env });
  const code = await run.exited;
  return { code, stdout: run.stdout.join('\n'), stderr: run.stderr.join('\n'), stderrLines: run.stderr };
}

/** converts `file`, then checks the output as it is; returns the XML and the start plan */
async function convertAndCheck(file: string, env: NodeJS.ProcessEnv = {}) {
  const converted = await cli(['convert', file]);
  assert.equal(converted.code, 0, converted.stderr);
  assert.equal(converted.stderr, '');
  const registry = join(makeTempDir('s7sup-convert-'), 'SupervisorRegistry.xml');
  writeFileSync(registry, `${converted.stdout}\n`);
  const checked = await cli(['check', '--registry', registry], env);
  assert.equal(
    checked.code,
    0,
    `check refused the converted registry:\n${checked.stderr}\n${converted.stdout}`,
  );
  return { xml: converted.stdout, plan: checked.stdout, registry };
}

/** the XML comments of `xml`, whitespace folded */
function comments(xml: string): string[] {
  return [...xml.matchAll(/<!--([\s\S]*?)-->/g)].map((m) => (m[1] ?? '').replace(/\s+/g, ' ').trim());
}

function assertComment(xml: string, pattern: RegExp): void {
  assert.ok(
    comments(xml).some((c) => pattern.test(c)),
    `no comment matches ${pattern}:\n${comments(xml).join('\n')}`,
  );
}

describe('convert supervisord.conf', () => {
  test('nginx, php-fpm and a numprocs worker: priorities, settings, and a comment for each unmapped one', async () => {
    const { xml, plan } = await convertAndCheck(join(fixtures, 'supervisord.conf'), { QUEUE_NAME: 'emails' });
    assert.match(plan, /priority 5: php-fpm \(first\)/);
    assert.match(plan, /priority 10: nginx /);
    assert.match(plan, /priority 20: worker_00, worker_01 /);
    assert.doesNotMatch(plan, /cron/);
    // the ';' inside quotes is not a comment; the one after whitespace is
    assert.match(plan, /command +\/usr\/sbin\/nginx -g 'daemon off;'\n/);
    // %(ENV_QUEUE_NAME)s is the supervisor's environment at start-up, as with supervisord: the plan
    // shows it as written (a value may be a secret); run-converted.test.ts checks what the program gets
    assert.match(
      plan,
      /command +php \/var\/www\/html\/artisan queue:work --sleep=3 --tries=3 '--queue=\$\{QUEUE_NAME\}'\n/,
    );
    assert.match(xml, /<argument>--queue=\$\{QUEUE_NAME\}<\/argument>/);
    assert.match(plan, /php-fpm\n(.*\n)*? +stop +SIGQUIT, SIGKILL after 20s/);
    assert.match(plan, /worker_00\n(.*\n)*? +user +www-data/);
    assert.match(
      plan,
      /worker_00\n(.*\n)*? +environment +QUEUE_CONNECTION, REDIS_HOST, APP_ENV, TZ \(values not shown\)/,
    );
    assert.match(plan, /worker_00\n(.*\n)*? +restart +on-failure/);
    assert.match(plan, /nginx\n(.*\n)*? +restart +always/);
    assert.match(
      xml,
      /<server id="php-fpm">[\s\S]*?<startDelay>2<\/startDelay>[\s\S]*?<output>raw<\/output>/,
    );

    assertComment(xml, /^redirect_stderr=true: no equivalent: stderr is always captured separately/);
    assertComment(xml, /^startretries=5: no equivalent/);
    assertComment(xml, /^exitcodes=0,2: no equivalent/);
    assertComment(xml, /^stdout_logfile=\/var\/www\/html\/storage\/logs\/worker\.log: no equivalent/);
    assertComment(xml, /^\[supervisord\] logfile=\/dev\/null: no equivalent/);
    assertComment(xml, /^\[supervisord\] pidfile=\/run\/supervisord\.pid: no equivalent/);
    assertComment(xml, /^\[unix_http_server\]: no equivalent/);
    assertComment(xml, /^\[rpcinterface:supervisor\]: no equivalent/);
    assertComment(xml, /^numprocs=2: process 1 of \[program:worker\]/);
    assertComment(
      xml,
      /^autostart=false: \[program:cron\] is not started with the others.*<server id="cron">/,
    );
  });

  test('a program left out (autostart=false) is a valid server once its comment marks are removed', async () => {
    const dir = makeTempDir('s7sup-convert-');
    const conf = join(dir, 'admin.conf');
    writeFileSync(
      conf,
      '[program:web]\ncommand=node web.js\n[program:admin]\ncommand=node admin.js --port 9000 --host=127.0.0.1\nautostart=false\n',
    );
    const { xml } = await convertAndCheck(conf);
    // as a person would: the comment's opening line(s) and its closing mark go, the server stays
    const uncommented = xml
      .replace(/<!-- autostart=false[\s\S]*?\n(\s*<server )/, '$1')
      .replace(/\n\s*-->\n(\s*<\/servers>)/, '\n$1');
    const registry = join(dir, 'uncommented.xml');
    writeFileSync(registry, uncommented);
    const checked = await cli(['check', '--registry', registry]);
    assert.equal(checked.code, 0, `${checked.stderr}\n${uncommented}`);
    assert.match(checked.stdout, /command +node admin\.js --port 9000 --host=127\.0\.0\.1\n/);
  });

  test("%(ENV_X)s is the program's own variable when it sets one, else the supervisor's environment at start-up", async () => {
    const dir = makeTempDir('s7sup-convert-');
    const conf = join(dir, 'app.conf');
    writeFileSync(
      conf,
      [
        '[supervisord]',
        'environment=REGION="eu-west"',
        '[program:app]',
        'command=app --mode %(ENV_MODE)s --region %(ENV_REGION)s --home %(ENV_HOME)s --name %(program_name)s-%(process_num)d',
        'environment=MODE="fast"',
        '',
      ].join('\n'),
    );
    const { xml, plan } = await convertAndCheck(conf, { HOME: '/home/app' });
    // the plan shows ${HOME} as written; the value reaches the program (run-converted.test.ts)
    assert.match(plan, /command +app --mode fast --region eu-west --home '\$\{HOME\}' --name app-0\n/);
    assert.match(xml, /<argument>\$\{HOME\}<\/argument>/);
    assert.match(xml, /<variable name="REGION">eu-west<\/variable>/);
  });

  test('[include]d files are read; one that is not here is a comment', async () => {
    const dir = makeTempDir('s7sup-convert-');
    writeFileSync(
      join(dir, 'supervisord.conf'),
      '[supervisord]\nnodaemon=true\n[include]\nfiles = conf.d/*.conf /nonexistent/extra.conf\n',
    );
    const confd = join(dir, 'conf.d');
    (await import('node:fs')).mkdirSync(confd);
    writeFileSync(join(confd, 'b.conf'), '[program:b]\ncommand=%(here)s/b-server\npriority=2\n');
    writeFileSync(join(confd, 'a.conf'), '[program:a]\ncommand=a-server --name %(program_name)s\n');
    const { xml, plan } = await convertAndCheck(join(dir, 'supervisord.conf'));
    assert.match(plan, /priority 2: b /);
    assert.match(plan, /priority 999: a /);
    assert.match(xml, new RegExp(`<command>${confd}/b-server</command>`));
    assert.match(plan, /command +a-server --name a\n/);
    assertComment(xml, /^\[include\] files=\/nonexistent\/extra\.conf: no such file here/);
  });
});

describe('convert Procfile', () => {
  test('web, worker, clock and a shell line start together; release is a comment; $PORT gets a value', async () => {
    const { xml, plan } = await convertAndCheck(join(fixtures, 'Procfile'));
    assert.match(plan, /priority 1: web, worker, clock, assets \(together, first\)/);
    assert.doesNotMatch(plan, /release/);
    assert.match(plan, /web\n +command +\/bin\/sh -c 'bundle exec puma -C config\/puma\.rb -p \$PORT'\n/);
    assert.match(plan, /worker\n +command +bundle exec sidekiq -C config\/sidekiq\.yml -e production\n/);
    assert.match(plan, /assets\n +command +\/bin\/sh -c 'exec yarn build --watch > log\/assets\.log 2>&1'\n/);
    assert.match(xml, /<variable name="PORT">\$\{PORT:-5000\}<\/variable>/);
    assertComment(
      xml,
      /^release: bundle exec rails db:migrate && bundle exec rails cache:clear not supervised/,
    );
    assertComment(xml, /^uses \$PORT, which Heroku and foreman set/);
  });
});

describe('convert process-compose.yaml', () => {
  test('depends_on as dependsOn (one priority: the dependencies alone order the start), probes as checks, availability and shutdown; comments for the rest', async () => {
    const { xml, plan } = await convertAndCheck(join(fixtures, 'process-compose.yaml'));
    assert.match(
      plan,
      /priority 1: postgres, redis, migrate, web, sidekiq-0, sidekiq-1 \(together as dependencies allow, first\)/,
    );
    assert.doesNotMatch(xml, /<startPriority>(?!1<)/);
    assert.match(plan, /postgres\n(.*\n)*? +stop +SIGINT, SIGKILL after 30s/);
    assert.match(
      plan,
      /postgres\n(.*\n)*? +restart +on-failure \(not after exit 0\); backoff 2s doubling to 2s/,
    );
    assert.match(
      plan,
      /postgres\n(.*\n)*? +ready +exec \/bin\/sh -c .*pg_isready -h 127\.0\.0\.1 -U postgres.* \(every 5s, timeout 3s; 10 failures/,
    );
    assert.match(
      plan,
      /web: Puma serving the Rails application\n(.*\n)*? +ready +http GET http:\/\/127\.0\.0\.1:3000\/up/,
    );
    assert.match(plan, /migrate\n(.*\n)*? +restart +never/);
    // web and sidekiq wait for it to succeed: a oneshot, critical like any other (exit 0 is ready)
    assert.match(plan, /migrate\n +kind +oneshot/);
    assert.match(plan, /migrate\n(.*\n)*? +critical +yes/);
    assert.match(xml, /<kind>oneshot<\/kind>\n(.*\n)*? *<dependsOn server="postgres" condition="ready"\/>/);
    assert.match(plan, /migrate\n(.*\n)*? +after +postgres \(ready\)/);
    assert.match(
      plan,
      /web: Puma serving the Rails application\n +after +migrate \(succeeded\), redis \(started\)/,
    );
    // a dependency on a process with replicas is on every replica; each replica depends as its process does
    for (const replica of ['sidekiq-0', 'sidekiq-1'])
      assert.match(plan, new RegExp(`${replica}\\n +after +redis \\(ready\\), migrate \\(succeeded\\)`));
    assert.equal((xml.match(/<kind>oneshot<\/kind>/g) ?? []).length, 1, 'only migrate runs to completion');
    assert.match(xml, /<variable name="POSTGRES_PASSWORD">\$\{POSTGRES_PASSWORD:-secret\}<\/variable>/);

    assertComment(
      xml,
      /^runs to completion \(web waits for it to complete\): a oneshot, whose exit 0 is completed \(counts as ready\); if it fails, the supervisor gives up/,
    );
    assert.doesNotMatch(xml, /no equivalent yet/);
    assertComment(xml, /^availability\.max_restarts=5: no equivalent/);
    assertComment(xml, /^shutdown\.command=bundle exec pumactl stop: no equivalent/);
    assertComment(xml, /^readiness_probe\.initial_delay_seconds=2: no equivalent/);
    assertComment(xml, /^liveness_probe\.http_get\.headers: no equivalent/);
    assertComment(xml, /^ready_log_line=Starting processing: no equivalent/);
    assertComment(xml, /^log_location=\/tmp\/process-compose\.log: no equivalent/);
    assertComment(xml, /^replicas=2: replica 1 of "sidekiq"/);
  });
});

describe('convert: values survive XML and the registry variable syntax', () => {
  test('<, &, quotes and a literal ${ in a command reach the program unchanged', async () => {
    const dir = makeTempDir('s7sup-convert-');
    const procfile = join(dir, 'Procfile');
    writeFileSync(procfile, `web: ./server --title "<b>Tom & Jerry's</b>" --tpl '\${NAME}' --sep='-->'\n`);
    const { xml, plan } = await convertAndCheck(procfile);
    assert.match(xml, /<argument>&lt;b&gt;Tom &amp; Jerry's&lt;\/b&gt;<\/argument>/);
    assert.match(xml, /<argument>\$\$\{NAME\}<\/argument>/);
    // check shell-quotes the arguments it shows: these are the program's arguments as it gets them
    assert.match(
      plan,
      /command +.*\/server --title '<b>Tom & Jerry'\\''s<\/b>' --tpl '\$\$\{NAME\}' '--sep=-->'\n/,
    );
  });

  test('process-compose variables: $$ is a $, $X and {X} references come from the environment at start-up, unset is empty', async () => {
    const dir = makeTempDir('s7sup-convert-');
    const file = join(dir, 'process-compose.yaml');
    writeFileSync(
      file,
      [
        'processes:',
        '  web:',
        `    command: "./server --port \${PORT:-8080} --host $HOST_IP"`,
        '    environment:',
        '      - "GREETING=cost $$5"',
        `      - "HOME_DIR=\${HOME}/app"`,
        '',
      ].join('\n'),
    );
    const { xml, plan } = await convertAndCheck(file, { HOST_IP: '10.1.2.3' });
    assert.match(xml, /<argument>\.\/server --port \$\{PORT:-8080\} --host \$\{HOST_IP:-\}<\/argument>/);
    assert.match(xml, /<variable name="GREETING">cost \$5<\/variable>/);
    assert.match(xml, /<variable name="HOME_DIR">\$\{HOME:-\}\/app<\/variable>/);
    assert.match(plan, /command +\/bin\/sh -c '\.\/server --port \$\{PORT:-8080\} --host \$\{HOST_IP:-\}'\n/);

    writeFileSync(file, `processes:\n  web:\n    command: "./server \${PORT:?required}"\n`);
    const refused = await cli(['convert', file]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /process-compose\.yaml:3: processes\.web\.command: "\$\{PORT:\?required\}" is not a form the registry has/,
    );

    writeFileSync(file, 'disable_env_expansion: true\nprocesses:\n  web:\n    command: "./server $HOME"\n');
    const literal = await cli(['convert', file]);
    assert.equal(literal.code, 0, literal.stderr);
    assert.match(literal.stdout, /<argument>\.\/server \$HOME<\/argument>/);
  });

  test('a character XML cannot hold is refused with the file named', async () => {
    const dir = makeTempDir('s7sup-convert-');
    const procfile = join(dir, 'Procfile');
    writeFileSync(procfile, 'web: ./server --bell \u0007\n');
    const { code, stderrLines } = await cli(['convert', procfile]);
    assert.equal(code, 2);
    assert.equal(stderrLines.length, 1);
    assert.match(
      stderrLines[0] ?? '',
      /Procfile: .* holds the character U\+0007, which an XML file cannot hold/,
    );
  });
});

describe('convert: files it cannot convert', () => {
  const dir = makeTempDir('s7sup-convert-bad-');
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('each is one line on stderr naming the file (and the line), exit 2, nothing on stdout', async () => {
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'missing.conf'), /^\S*missing\.conf: no such file$/],
      [
        write('supervisord.conf', '[program:a]\ncommand=a\nthis is not an option\n'),
        /supervisord\.conf:3: cannot parse "this is not an option"/,
      ],
      [
        write('only-main.conf', '[supervisord]\nnodaemon=true\n'),
        /only-main\.conf: no \[program:x\] section: nothing to convert$/,
      ],
      [
        write('nocommand.conf', '[program:web]\npriority=1\n'),
        /nocommand\.conf:1: \[program:web\]: no command/,
      ],
      [
        write('quote.conf', "[program:web]\ncommand=echo 'oops\n"),
        /quote\.conf:2: \[program:web\] command: No closing quotation/,
      ],
      [
        write('percent.conf', '[program:web]\ncommand=echo 100%\n'),
        /percent\.conf:2: \[program:web\] command: has a lone "%"/,
      ],
      [write('Procfile', 'web: ok\nthis line has no colon\n'), /Procfile:2: not a Procfile line/],
      [write('empty.procfile', '# nothing\n'), /empty\.procfile: no process types/],
      [
        write('process-compose.yaml', 'processes:\n  web:\n    command: x\n  web:\n    command: y\n'),
        /process-compose\.yaml:4: not valid YAML: Map keys must be unique/,
      ],
      [
        write(
          'cycle.yaml',
          'processes:\n  a:\n    command: a\n    depends_on: {b: {condition: process_started}}\n  b:\n    command: b\n    depends_on: {a: {condition: process_started}}\n',
        ),
        /cycle\.yaml:4: processes\.a\.depends_on: depends_on forms a cycle: a -> b -> a/,
      ],
      [
        write(
          'unknown-dep.yaml',
          'processes:\n  a:\n    command: a\n    depends_on:\n      db:\n        condition: process_healthy\n',
        ),
        /unknown-dep\.yaml:5: .*"db" is not a process of this file/,
      ],
      [
        write('nocmd.yaml', 'processes:\n  a:\n    working_dir: /tmp\n'),
        /nocmd\.yaml:2: processes\.a: no command/,
      ],
      [
        write(
          'restart.yaml',
          'processes:\n  a:\n    command: a\n    availability:\n      restart: sometimes\n',
        ),
        /restart\.yaml:5: processes\.a\.availability\.restart: expected always, on_failure/,
      ],
      [write('notes.txt', 'just some text\nthat is nothing\n'), /notes\.txt: cannot tell what this is/],
    ];
    for (const [file, expected] of cases) {
      const { code, stdout, stderrLines } = await cli(['convert', file]);
      assert.equal(code, 2, file);
      assert.equal(stdout, '', file);
      assert.equal(stderrLines.length, 1, `${file}: ${stderrLines.join('\n')}`);
      assert.match(stderrLines[0] ?? '', expected);
      assert.doesNotMatch(stderrLines[0] ?? '', stackTrace);
    }
  });

  test('--format reads a file whatever its name; usage errors exit 2', async () => {
    const procfile = write('services.txt', 'web: ./server\n');
    const asProcfile = await cli(['convert', procfile]);
    assert.equal(asProcfile.code, 0, asProcfile.stderr);
    const forced = await cli(['convert', '--format', 'supervisord', procfile]);
    assert.equal(forced.code, 2);
    assert.match(forced.stderr, /services\.txt:1: not an INI file/);
    const none = await cli(['convert']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /convert: which file\?/);
    const bad = await cli(['convert', '--format', 'systemd', procfile]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be supervisord, procfile, process-compose, not 'systemd'/);
  });
});

describe('convert process-compose.yaml: every depends_on condition', () => {
  test('started, healthy, completed (also without a condition), completed_successfully, log_ready; oneshots where others wait for completion', async () => {
    const dir = makeTempDir('s7sup-convert-');
    const file = join(dir, 'process-compose.yaml');
    writeFileSync(
      file,
      [
        'processes:',
        '  seed:',
        '    command: ./seed',
        '  fetch:',
        '    command: ./fetch',
        '    availability:',
        '      restart: on_failure',
        '  migrate:',
        '    command: ./migrate',
        '    availability:',
        '      restart: "no"',
        '  db:',
        '    command: ./db',
        '    readiness_probe:',
        '      exec:',
        '        command: ./db-ready',
        '  cache:',
        '    command: ./cache',
        '  worker:',
        '    command: ./worker',
        '    replicas: 2',
        '  old:',
        '    command: ./old',
        '    disabled: true',
        '  app:',
        '    command: ./app',
        '    depends_on:',
        '      db: {condition: process_healthy}',
        '      cache: {condition: process_started}',
        '      seed: {}',
        '      fetch: {condition: process_completed}',
        '      migrate: {condition: process_completed_successfully}',
        '  web:',
        '    command: ./web',
        '    depends_on:',
        '      app: {condition: process_log_ready}',
        '      cache: {condition: process_healthy}',
        '      worker: {condition: process_started}',
        '      old: {condition: process_started}',
        '',
      ].join('\n'),
    );
    const { xml, plan } = await convertAndCheck(file);
    const server = (id: string) => new RegExp(`<server id="${id}">[\\s\\S]*?</server>`).exec(xml)?.[0] ?? '';
    assert.match(
      server('app'),
      /<dependsOn server="db" condition="ready"\/>\s*<dependsOn server="cache" condition="started"\/>\s*<dependsOn server="seed" condition="completed"\/>\s*<dependsOn server="fetch" condition="completed"\/>\s*<dependsOn server="migrate" condition="succeeded"\/>/,
    );
    // what app waits to complete runs to completion; what it waits to start or be ready does not
    for (const id of ['seed', 'fetch', 'migrate']) assert.match(server(id), /<kind>oneshot<\/kind>/, id);
    for (const id of ['db', 'cache', 'app', 'web', 'worker-0']) assert.doesNotMatch(server(id), /<kind>/, id);
    assert.match(server('fetch'), /<restart policy="on-failure"\/>/);
    assertComment(
      xml,
      /^depends_on seed \(no condition: process-compose waits for process_completed\): condition completed/,
    );
    assertComment(
      xml,
      /^depends_on cache \(process_healthy\): condition ready: cache has no readiness check, so that is once it has started/,
    );
    assertComment(
      xml,
      /^depends_on app \(process_log_ready\): no equivalent: there is no ready_log_line; waits for app to be ready instead/,
    );
    assertComment(
      xml,
      /^depends_on old: old is left out \(disabled\), so nothing to wait for: no <dependsOn>/,
    );
    assertComment(
      xml,
      /^runs to completion \(app waits for it to complete\): a oneshot, whose exit 0 is completed \(counts as ready\); if it fails and its restarts run out, the supervisor gives up/,
    );
    assert.match(
      server('web'),
      /<dependsOn server="app" condition="ready"\/>\s*<dependsOn server="cache" condition="ready"\/>\s*<dependsOn server="worker-0" condition="started"\/>\s*<dependsOn server="worker-1" condition="started"\/>\s*<restart/,
    );
    assert.match(
      plan,
      /web\n +after +app \(ready\), cache \(ready\), worker-0 \(started\), worker-1 \(started\)/,
    );
    // shutdown: dependents first
    const shutdown = /^shutdown order: (.*)$/m.exec(plan)?.[1] ?? '';
    assert.ok(
      shutdown.indexOf('web') < shutdown.indexOf('app') && shutdown.indexOf('app') < shutdown.indexOf('db'),
      shutdown,
    );
  });
});
