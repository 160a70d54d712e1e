# s7supervisor as PID 1 of the image-serving container, with the demo components and registry.
#
#   docker build -t s7supervisor:local .            (podman: podman build --format docker --network host ...)
#   docker run --rm -p 9910:9910 s7supervisor:local
#
# No --init and no tini: s7supervisor is the init. It reaps orphans as PID 1 (native addon).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------- build: TypeScript and the addon
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp compiles against the headers that ship with this Node (/usr/local/include/node)
# instead of downloading them: only the npm registry has to be reachable during the build.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json binding.gyp ./
COPY native/ native/
# npm runs `node-gyp rebuild` for a package with a binding.gyp; the second command makes sure of it
# should the install scripts change.
RUN npm ci --no-audit --no-fund \
 && { test -f build/Release/s7supervisor_native.node \
      || node /usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js rebuild; }
COPY tsconfig.json ./
COPY src/ src/
COPY examples/ examples/
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && test -f build/Release/s7supervisor_native.node \
 && test -f dist/src/cli/main.js

# ---------------------------------------------------------------- runtime: only what runs
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    S7SUPERVISOR_HOME=/app/examples/image-serving \
    DEMO_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/dist/src/ dist/src/
COPY --from=build /src/build/Release/s7supervisor_native.node build/Release/
COPY --from=build /src/examples/image-serving/ examples/image-serving/
# `s7supervisor` on PATH (what `npm install -g` would link); temp/ (control socket) and logs/
# (the demo registry's <log>) writable by the unprivileged user.
RUN chmod 755 dist/src/cli/main.js \
 && ln -s /app/dist/src/cli/main.js /usr/local/bin/s7supervisor \
 && mkdir -p examples/image-serving/temp examples/image-serving/logs \
 && chown node:node examples/image-serving/temp examples/image-serving/logs
# Unprivileged by default. A registry that switches users (<user>) needs the supervisor to run as
# root: docker run --user root (Kubernetes: runAsUser: 0).
USER node
# 9910: probes, /metrics, status page; 27345-27347: the demo is, svg and ps.
EXPOSE 9910 27345 27346 27347
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["s7supervisor", "probe", "livez"]
ENTRYPOINT ["s7supervisor", "run"]
CMD []
