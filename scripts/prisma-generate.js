#!/usr/bin/env node
// `prisma generate` downloads the schema-engine binary before any command, even though generation
// never uses it. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any executable (node itself) skips the
// download, so the client can be generated offline.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(
  process.execPath,
  [cli, 'generate', '--schema', path.join(__dirname, '..', 'prisma', 'schema.prisma')],
  {
    stdio: 'inherit',
    env: {
      PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
      ...process.env,
    },
  },
);
process.exit(result.status ?? 1);
