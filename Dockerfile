# syntax=docker/dockerfile:1
# Agora: one image for every pod role; SERVICES picks what a container runs.
#   docker build -t agora .
#   docker run -e SERVICES=api -e TRANSPORTER=kafka://kafka:9092 ... agora
# The build stage compiles the TypeScript with tsc into dist/ and bundles the web app into public/;
# pods run the compiled JavaScript with plain node (no tsx, no esbuild at run time).

# --- production dependencies only ---------------------------------------------------------
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- build: full install, compile the services, bundle the web app --------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm run build:web

# --- runtime --------------------------------------------------------------------------------
FROM node:22-bookworm-slim AS runtime
# Listen beyond loopback inside the container.
ENV NODE_ENV=production \
	HOST=0.0.0.0 \
	PORT=3000
WORKDIR /app
# Owned by root and not writable by the app user: the code cannot be changed at run time.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
# The services, the broker's configuration and `node dist/scripts/repl.js` (the operators' console, from any pod).
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
# The image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# 3000: gateway HTTP + Socket.IO; 3001: probes of the other roles (PROBE_PORT); 3030: metrics.
EXPOSE 3000 3001 3030
# Liveness only (Kubernetes ignores this and uses its own probes): the probe server when
# PROBE_PORT is set, else the gateway's health route.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
	CMD ["node", "-e", "const p=process.env.PROBE_PORT;fetch(p?`http://127.0.0.1:${p}/live`:`http://127.0.0.1:${process.env.PORT||3000}/api/health`).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node itself as PID 1 (not npm), so SIGTERM reaches the broker and it drains gracefully.
CMD ["node", "node_modules/moleculer/bin/moleculer-runner.js", "--config", "dist/moleculer.config.js"]
