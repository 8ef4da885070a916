# syntax=docker/dockerfile:1
#
# One image for all five services; the command picks the service:
#   node -r tsconfig-paths/register dist/apps/<service>/src/main.js
# with <service> one of gateway, identity, membership, authorization, audit-log (default: gateway).
#
# Node 22 LTS (Node 20 reached its end of life in April 2026). The development machines and CI still run
# Node 20 (package.json `engines`), so both majors must keep working: see docs/operations.md "Image".
# Only the runtime stage is shipped: no TypeScript, ts-node, compiler or npm cache in it, and only the
# `dependencies` of package.json in its node_modules (build and test tools are `devDependencies`).
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: all dependencies, compile TypeScript to dist/ -------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts/build-console.js ./scripts/
# tsc -b tsconfig.build.json -> dist/apps/<svc>/src/main.js and dist/libs/<lib>/src/...; the web console (Vite) -> dist/console
RUN npm run build && npm run build:console && rm -f dist/.tsbuildinfo

# --- deps: production dependencies only ------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
# tsconfig.json maps @app/* to libs/*/src relative to its baseUrl ./; TS_NODE_BASEURL makes
# tsconfig-paths (a runtime dependency) resolve them under dist/ instead.
ENV NODE_ENV=production \
    TS_NODE_BASEURL=./dist
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY --from=build /app/dist ./dist
# The files stay owned by root and read-only for the process; it runs as the image's unprivileged user
# (uid 1000), so it also works with a read-only root filesystem.
USER node
# gateway: GATEWAY_PORT (3000) and /metrics on METRICS_PORT (9464); other services: health and metrics on HTTP_PORT (8080 in compose and deploy/)
EXPOSE 3000 8080 9464
CMD ["node", "-r", "tsconfig-paths/register", "dist/apps/gateway/src/main.js"]
