# syntax=docker/dockerfile:1
# Build stage: every dependency from the lockfile, the generated Prisma client, the compiled JavaScript
# (dist/ carries the client compiled from src/generated/prisma).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build

# Runtime stage: production dependencies only, installed from the lockfile, and the build output, run
# as a non-root user. The Prisma generator is a devDependency, so the postinstall step skips here;
# the client is already compiled into dist/. CI runs this same start command from such a copy.
FROM node:24-bookworm-slim
ENV NODE_ENV=production HERALD_HOME=/var/lib/herald PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY prisma ./prisma
COPY bin ./bin
RUN mkdir -p /var/lib/herald && chown node:node /var/lib/herald
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/cli/main.js", "start"]
