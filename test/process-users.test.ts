import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { lookupUser } from '../src/process/users.js';
import { makeTempDir } from './helpers/paths.js';

test('<user>: name, uid, name:group, uid:gid, unknown', () => {
  const dir = makeTempDir();
  const passwd = join(dir, 'passwd');
  const group = join(dir, 'group');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\nimgsrv:x:1001:1002::/opt/is:/bin/false\n');
  writeFileSync(group, 'root:x:0:\nimages:x:2000:imgsrv\n');
  assert.deepEqual(lookupUser('imgsrv', passwd, group), { uid: 1001, gid: 1002 });
  assert.deepEqual(lookupUser('1001', passwd, group), { uid: 1001, gid: 1002 });
  assert.deepEqual(lookupUser('imgsrv:images', passwd, group), { uid: 1001, gid: 2000 });
  assert.deepEqual(lookupUser('4242:4343', passwd, group), { uid: 4242, gid: 4343 });
  assert.deepEqual(lookupUser('4242', passwd, group), { uid: 4242, gid: 4242 });
  assert.equal(lookupUser('nobody-here', passwd, group), undefined);
  assert.equal(lookupUser('imgsrv:nogroup', passwd, group), undefined);
});
