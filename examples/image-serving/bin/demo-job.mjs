#!/usr/bin/env node
// A stand-in for the demo's oneshots: `migrate` (the schema migration the Platform Server waits
// for) and `purge` (the cache purge that runs on a schedule). It says what it does, takes a while,
// and exits. Node's standard library only, plain JavaScript: it runs as it is, without a build.
//
//   node bin/demo-job.mjs migrate|purge
//
// DEMO_<JOB>_SECONDS (default 1) is how long it takes; DEMO_<JOB>_EXIT_CODE (default 0) how it
// ends, so a failing migration (DEMO_MIGRATE_EXIT_CODE=1) shows ps held back with the reason.
const JOBS = {
  migrate: ['checking the schema version', 'applying migrations', 'schema up to date'],
  purge: ['scanning the cache', 'removing expired entries', 'cache purged'],
};

const job = process.argv[2];
if (!job || !(job in JOBS)) {
  process.stderr.write(`usage: demo-job.mjs migrate|purge (got ${job ?? 'nothing'})\n`);
  process.exit(2);
}

function setting(name, fallback) {
  const raw = process.env[`DEMO_${job.toUpperCase()}_${name}`];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`demo-job: DEMO_${job.toUpperCase()}_${name} must be a non-negative number\n`);
    process.exit(2);
  }
  return value;
}

const seconds = setting('SECONDS', 1);
const exitCode = setting('EXIT_CODE', 0);
const [first, middle, last] = JOBS[job];
const say = (msg) => process.stdout.write(`${JSON.stringify({ level: 30, job, pid: process.pid, msg })}\n`);
say(first);
setTimeout(() => say(middle), (seconds * 1000) / 2);
setTimeout(() => {
  if (exitCode === 0) say(last);
  else process.stderr.write(`${job} failed (exit code ${exitCode})\n`);
  process.exit(exitCode);
}, seconds * 1000);
