// What `run` (and the control socket) use of the HTTP layer.
export { type AdmissionLimits, defaultAdmission } from './admission.js';
export { createHttpApp, type HttpApp, type HttpAppOptions } from './app.js';
export { type ListenOptions, listenHttp, listenUnixSocket, StartupError } from './listen.js';
export { liveFeeds } from './live.js';
