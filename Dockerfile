# s7supervisor as PID 1 of the image-serving container, with the demo components and registry.
#
#   docker build -t s7supervisor:local .            (podman: podman build --format docker --network host ...)
#   docker run --rm -p 9910:9910 s7supervisor:local
#
# No --init and no tini: s7supervisor is the init. It reaps orphans as PID 1 (native addon).
#
# /opt/s7supervisor is the npm package as npm would install it (package.json, dist/src, the
# prebuilt addon for this image's arch, glibc and musl) plus its production node_modules and
# bin/s7supervisor: self-contained, so another image with Node can take it as it is
# (COPY --from=s7supervisor:local /opt/s7supervisor /opt/s7supervisor; docs/packaging.md).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------- build: TypeScript, addon, package
FROM ${NODE_IMAGE} AS build
# python3 and make for node-gyp, gcc for the glibc addon, musl-dev (x86_64-linux-musl-gcc or
# aarch64-linux-musl-gcc) for the musl one, so /opt/s7supervisor also runs on a musl image with Node.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make gcc libc6-dev musl-dev \
 && rm -rf /var/lib/apt/lists/*
# node-gyp compiles against the headers that ship with this Node (/usr/local/include/node)
# instead of downloading them: only the npm registry has to be reachable during the build.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
# --ignore-scripts: the addon is built by build-prebuilds.sh below, the TypeScript by `npm run build`
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY binding.gyp ./
COPY native/ native/
COPY scripts/build-prebuilds.sh scripts/check-prebuilds.mjs scripts/bundle.mjs scripts/
RUN bash scripts/build-prebuilds.sh host
COPY tsconfig.json README.md ./
COPY src/ src/
RUN npm run build
# The package as `npm pack` makes it (the `files` of package.json), unpacked into /opt/s7supervisor,
# with the production dependencies of the lockfile. Then a smoke test: `run` loads the addon (from
# prebuilds/: nothing was compiled there) and exits with its child's code. It also leaves the code
# cache of run.cjs (src/cli/code-cache.ts), made by this image's Node, for the unprivileged user,
# who cannot write it there.
RUN npm pack --ignore-scripts --silent \
 && mkdir -p /opt/s7supervisor/bin \
 && tar -xzf s7supervisor-*.tgz --strip-components=1 -C /opt/s7supervisor \
 && cp package-lock.json /opt/s7supervisor/ \
 && cd /opt/s7supervisor \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && chmod 755 dist/src/cli/main.cjs dist/src/cli/main.js \
 && ln -s ../dist/src/cli/main.cjs bin/s7supervisor \
 && test ! -e build \
 && { bin/s7supervisor run --port 0 -- sh -c 'exit 3'; test $? = 3; }

# ---------------------------------------------------------------- runtime: only what runs
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PATH=/opt/s7supervisor/bin:$PATH \
    S7SUPERVISOR_HOME=/app/examples/image-serving \
    DEMO_HOST=0.0.0.0
COPY --from=build /opt/s7supervisor/ /opt/s7supervisor/
WORKDIR /app
COPY examples/image-serving/ examples/image-serving/
# temp/ (control socket) and logs/ (the demo registry's <log>) writable by the unprivileged user.
RUN mkdir -p examples/image-serving/temp examples/image-serving/logs \
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
