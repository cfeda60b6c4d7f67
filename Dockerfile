# syntax=docker/dockerfile:1
# cachelog: build with the dev dependencies, run with the production ones only.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=9001 \
    RESP_PORT=6380 \
    DATA_DIR=/data \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY console ./console
# The journal lives in the volume, owned by the unprivileged "node" user of the base image.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 9001: HTTP (every API family); 6380: the Redis protocol (RESP_PORT=off turns it off).
EXPOSE 9001 6380
# Ready = database open, start-up done, not shutting down (plain HTTP; with TLS_CERT set, probe https).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9001) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# main.js handles SIGTERM: readiness goes 503, the listener closes, mailboxes drain, snapshots, exit 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
