# syntax=docker/dockerfile:1
# agent-bom: one image, every entry point (agent-bom api | gateway serve | proxy | scan | migrate | …).
# Build: docker build -t agent-bom --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest> .
# Pin the base by digest: `docker buildx imagetools inspect node:24-bookworm-slim` prints it. The default
# below is a placeholder on purpose, so an unpinned build fails instead of drifting.
# These steps are exercised without Docker by test/helm/dockerfile.test.ts (npm ci, build, npm ci --omit=dev,
# start) in a clean directory; no image can be built on the CI machines.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:PIN_THE_DIGEST_OF_node_24_bookworm_slim

# 1. build: every dependency, TypeScript → dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY apps ./apps
COPY libs ./libs
COPY cli ./cli
COPY migrations ./migrations
COPY bench ./bench
RUN npm run build

# 2. production dependencies only (no dev dependencies in the image; npm's cache stays in this stage)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# 3. runtime: non-root, nothing but node, the production node_modules and dist
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOME=/tmp \
    AGENT_BOM_DATA_DIR=/var/lib/agent-bom
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY docker/install-agent-bom.sh /usr/local/bin/install-agent-bom
USER 10001:10001
EXPOSE 8422 8090
ENTRYPOINT ["node", "/app/bin/agent-bom.js"]
CMD ["api", "--host", "0.0.0.0"]
