// What the supervisor core plugs into its health seam (check.ts).
export { watchReadyFd } from './fd.js';
export { startProbe } from './schedule.js';
