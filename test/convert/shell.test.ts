// When a Procfile or process-compose command line needs a shell, and how a plain one is split.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromShellLine, needsShell } from '../../src/convert/shell.js';

test('plain words and quotes are split; exec in front is dropped', () => {
  assert.deepEqual(fromShellLine('bundle exec puma -C config/puma.rb'), {
    command: 'bundle',
    args: ['exec', 'puma', '-C', 'config/puma.rb'],
  });
  assert.deepEqual(fromShellLine(`nginx -g 'daemon off;'`), {
    command: 'nginx',
    args: ['-g', 'daemon off;'],
  });
  assert.deepEqual(fromShellLine('exec gunicorn app:app --bind=0.0.0.0:8000'), {
    command: 'gunicorn',
    args: ['app:app', '--bind=0.0.0.0:8000'],
  });
});

test('anything more for the shell goes through /bin/sh -c, unchanged', () => {
  for (const line of [
    'bundle exec puma -p $PORT',
    'echo "$HOME"',
    'make build && ./server',
    'node app.js | tee out.log',
    './server > log.txt 2>&1',
    'cd web; npm start',
    'RAILS_ENV=production rails s',
    'ls *.txt',
    'echo `date`',
    'exec',
    'source env.sh',
    'echo "unterminated',
    'sleep 1 &',
    '~/bin/server',
  ]) {
    assert.equal(needsShell(line), true, line);
    assert.deepEqual(fromShellLine(line), { command: '/bin/sh', args: ['-c', line] }, line);
  }
  assert.deepEqual(fromShellLine('a | b', ['bash', '-lc']), { command: 'bash', args: ['-lc', 'a | b'] });
});

test('quoted special characters are plain text', () => {
  assert.equal(needsShell(`echo 'a | b; $c'`), false);
  assert.equal(needsShell(`echo "a | b; c"`), false);
  assert.equal(needsShell(`echo "a $c"`), true);
});
