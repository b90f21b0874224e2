#!/usr/bin/env node
// Generates the Prisma client into src/generated/prisma with Prisma's own generator packages, driven
// the way `prisma generate` drives them, without the `prisma` CLI package. The CLI depends on
// @prisma/dev (for `prisma dev`), whose @prisma/streams-local needs Node >= 22 in every version, so
// it would make installing on Node 20 warn; Herald uses neither, and generation needs no engine
// binary, so nothing is downloaded. The output is the same as the CLI's, byte for byte.
'use strict';
const path = require('node:path');

const schemaPath = path.join(__dirname, '..', 'prisma', 'schema.prisma');

function loadGenerator() {
  try {
    return {
      internals: require('@prisma/internals'),
      generatorTs: require('@prisma/client-generator-ts'),
    };
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
}

async function main() {
  const loaded = loadGenerator();
  if (!loaded) {
    // A production install (`npm ci --omit=dev`) has no generator: it runs the compiled dist/,
    // which already carries the client compiled from src/generated/prisma.
    console.log('prisma-generate: generator packages not installed (production install); skipped');
    return;
  }
  const { getGenerators, loadSchemaContext } = loaded.internals;
  const schemaContext = await loadSchemaContext({
    schemaPath: { cliProvidedPath: schemaPath },
    printLoadMessage: false,
    cwd: path.dirname(schemaPath),
  });
  const generators = await getGenerators({
    schemaContext,
    registry: {
      'prisma-client': { type: 'in-process', generator: new loaded.generatorTs.PrismaClientTsGenerator() },
    },
    skipDownload: true,
    cliCommand: 'generate',
  });
  for (const generator of generators) {
    try {
      await generator.generate();
      const output = generator.config.output ? generator.config.output.value : '(default output)';
      console.log(`prisma-generate: Prisma client generated into ${path.relative(process.cwd(), output)}`);
    } finally {
      generator.stop();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
