// What running a component as a <user> through setpriv costs per spawn (issue 10): spawn to exit
// of /bin/true, directly, with Node's own uid/gid switch, and through the plan planSpawn makes
// (setpriv --init-groups), interleaved so load hits all three alike; plus planSpawn itself. Not a
// test: it prints figures for docs/hardening-registry.md. Run alone, as root:
// node dist/bench/setpriv.js [runs] [user]
import { spawn } from 'node:child_process';
import { findSetpriv, lookupAccount, planSpawn } from '../src/process/users.js';

const runs = Number(process.argv[2] ?? 400);
const user = process.argv[3] ?? 'nobody';

function timeSpawn(
  file: string,
  args: readonly string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {},
) {
  return new Promise<number>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { stdio: 'ignore', ...options });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`${file} exited ${code}`)),
    );
  });
}

function quantile(values: number[], q: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN).toFixed(2);
}

if (process.getuid?.() !== 0 || findSetpriv() === null) {
  console.error('needs root and setpriv (util-linux)');
  process.exit(2);
}
const account = lookupAccount(user);
if (!account) {
  console.error(`no user ${user}`);
  process.exit(2);
}
const figures: Record<string, number[]> = { direct: [], 'node uid/gid': [], setpriv: [], planSpawn: [] };
for (let i = 0; i < runs + 20; i++) {
  const warm = i < 20;
  const direct = await timeSpawn('/bin/true', []);
  const ids = await timeSpawn('/bin/true', [], { uid: account.uid, gid: account.gid });
  const planStarted = performance.now();
  const planned = planSpawn({ command: '/bin/true', args: [] }, user);
  const planMs = performance.now() - planStarted;
  if (!planned.ok) throw new Error(planned.message);
  const viaSetpriv = await timeSpawn(planned.plan.file, planned.plan.args, {
    env: { ...process.env, ...planned.plan.env },
  });
  if (warm) continue;
  figures.direct?.push(direct);
  figures['node uid/gid']?.push(ids);
  figures.setpriv?.push(viaSetpriv);
  figures.planSpawn?.push(planMs);
}
console.log(`spawn to exit of /bin/true as ${user}, ${runs} runs each, interleaved`);
for (const [name, values] of Object.entries(figures)) {
  console.log(`  ${name.padEnd(14)} p50 ${quantile(values, 0.5)} ms   p90 ${quantile(values, 0.9)} ms`);
}
