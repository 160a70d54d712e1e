#!/usr/bin/env node
// The prebuilt addons the npm package ships (scripts/build-prebuilds.sh makes them): are all four
// there, built from the sources as they are now, and each for its machine? `npm pack` and
// `npm publish` run this (`prepack`) and stop when they are not, so a package never ships without
// its prebuilds or with ones built from older C sources.
//
//   node scripts/check-prebuilds.mjs                 check; exit 1 with one line per problem
//   node scripts/check-prebuilds.mjs --record T...   (build-prebuilds.sh) record targets T just built
//
// prebuilds/manifest.json: { "sources": sha256 of binding.gyp and native/**, "files": { "linux-x64/
// s7supervisor_native.napi.glibc.node": { "sha256": ..., "sources": ... }, ... } }
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuilds = join(repo, 'prebuilds');
const manifestPath = join(prebuilds, 'manifest.json');

/** the four targets: arch, libc, and the ELF e_machine their binary must have */
export const TARGETS = [
  { name: 'x64-glibc', arch: 'x64', libc: 'glibc', machine: 62 },
  { name: 'x64-musl', arch: 'x64', libc: 'musl', machine: 62 },
  { name: 'arm64-glibc', arch: 'arm64', libc: 'glibc', machine: 183 },
  { name: 'arm64-musl', arch: 'arm64', libc: 'musl', machine: 183 },
];

export const fileOf = (target) => `linux-${target.arch}/s7supervisor_native.napi.${target.libc}.node`;

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

/** sha256 over binding.gyp and every file under native/, by path */
export function sourcesHash() {
  const hash = createHash('sha256');
  const files = [join(repo, 'binding.gyp'), ...listFiles(join(repo, 'native'))]
    .map((path) => relative(repo, path))
    .sort();
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(repo, file)))
      .update('\0');
  return hash.digest('hex');
}

function readManifest() {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return { files: {} };
  }
}

/** problems with the prebuilds, [] when all four are there, fresh and for their machine */
export function problems() {
  const found = [];
  const manifest = readManifest();
  const current = sourcesHash();
  for (const target of TARGETS) {
    const file = fileOf(target);
    const path = join(prebuilds, file);
    if (!existsSync(path)) {
      found.push(`prebuilds/${file} is missing`);
      continue;
    }
    const data = readFileSync(path);
    const entry = manifest.files?.[file];
    if (!entry) found.push(`prebuilds/${file} is not in prebuilds/manifest.json`);
    else if (entry.sha256 !== sha256(data)) found.push(`prebuilds/${file} is not the file that was built`);
    else if (entry.sources !== current)
      found.push(`prebuilds/${file} was built from other sources than binding.gyp and native/ now`);
    const elf = data.subarray(0, 4).toString('latin1') === '\x7fELF';
    const machine = elf && data.length > 20 ? data.readUInt16LE(18) : -1;
    if (!elf || machine !== target.machine)
      found.push(`prebuilds/${file} is not an ELF file for ${target.arch} (e_machine ${machine})`);
  }
  return found;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const args = process.argv.slice(2);
  if (args[0] === '--record') {
    const manifest = readManifest();
    const current = sourcesHash();
    manifest.files ??= {};
    for (const name of args.slice(1)) {
      const target = TARGETS.find((t) => t.name === name);
      if (!target) throw new Error(`unknown target ${name}`);
      const file = fileOf(target);
      manifest.files[file] = { sha256: sha256(readFileSync(join(prebuilds, file))), sources: current };
    }
    manifest.sources = current;
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  } else {
    const found = problems();
    if (found.length > 0) {
      for (const line of found) console.error(`check-prebuilds: ${line}`);
      console.error('check-prebuilds: run scripts/build-prebuilds.sh (npm run prebuilds) before packing');
      process.exit(1);
    }
    console.log(`check-prebuilds: ${TARGETS.length} prebuilds, built from the current sources`);
  }
}
