// What `run` (and the control socket) use of the HTTP layer.
export { type ComponentJson, createHttpApp, type HttpApp, type HttpAppOptions, liveFeeds } from './app.js';
export { listenHttp, listenUnixSocket, StartupError } from './listen.js';
