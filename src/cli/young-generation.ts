// A supervisor's garbage is short-lived: each chunk of a component's output, each probe, each
// scrape. Under a steady stream (100 components printing 1,000 lines a second) V8 grows its young
// generation from 1 to 16 MiB per semi-space because a little of that garbage survives each
// scavenge, and keeps it: ~14 MB of RSS that buys nothing here (#11's benchmark). The growth
// factor is read each time V8 considers growing, so setting it to 1 once we run keeps the young
// generation at its initial size; scavenges get more frequent and each stays as cheap. It is not
// a command-line flag: that would need `env -S` in the shebang, which busybox (Alpine) lacks.
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
