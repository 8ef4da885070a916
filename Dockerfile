# syntax=docker/dockerfile:1
#
# One image for all five services; the command picks the service:
#   node -r tsconfig-paths/register dist/apps/<service>/src/main.js
# with <service> one of gateway, identity, membership, authorization, audit-log (default: gateway).

# --- build: full dependencies, compile TypeScript to dist/ ------------------------------------------------
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
# tsc -p tsconfig.build.json -> dist/apps/<svc>/src/main.js and dist/libs/<lib>/src/...
RUN npm run build

# --- deps: production dependencies only ------------------------------------------------------------------
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------------------
FROM node:20-slim
# tsconfig.json maps @app/* to libs/*/src relative to its baseUrl ./; TS_NODE_BASEURL makes
# tsconfig-paths resolve them under dist/ instead.
ENV NODE_ENV=production \
    TS_NODE_BASEURL=./dist
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY --from=build /app/dist ./dist
# The files stay owned by root and read-only for the process; it runs as the image's unprivileged user
# (uid 1000), so it also works with a read-only root filesystem.
USER node
# gateway: GATEWAY_PORT (3000); other services: health and metrics on HTTP_PORT (8080 in compose and deploy/)
EXPOSE 3000 8080
CMD ["node", "-r", "tsconfig-paths/register", "dist/apps/gateway/src/main.js"]
