import fs from 'node:fs';
import path from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type * as EngineModule from '@prisma/schema-engine-wasm/schema_engine_bg';

type Engine = EngineModule.SchemaEngine;
let loaded: Promise<typeof EngineModule> | undefined;

/**
 * The package's entry point imports the `.wasm` file as an ES module, which Node cannot do; load the
 * JS glue ourselves and hand it the instantiated WASM exports.
 */
function loadEngineModule(): Promise<typeof EngineModule> {
  loaded ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const glue = require('@prisma/schema-engine-wasm/schema_engine_bg') as typeof EngineModule;
    const wasmFile = path.join(
      path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
      'schema_engine_bg.wasm',
    );
    const module = await WebAssembly.compile(fs.readFileSync(wasmFile));
    const instance = await WebAssembly.instantiate(module, {
      './schema_engine_bg.js': withUnrefTimers(glue),
    });
    const exports = instance.exports as unknown as { __wbindgen_start(): void };
    glue.__wbg_set_wasm(exports);
    exports.__wbindgen_start();
    return glue;
  })();
  return loaded;
}

/**
 * The engine arms timers (its connection pool's housekeeping) that outlive `free()` and would keep the
 * process alive for a while after a migration; unref them so `herald migrate` and tests exit promptly.
 */
function withUnrefTimers(glue: typeof EngineModule): WebAssembly.ModuleImports {
  const imports: WebAssembly.ModuleImports = { ...(glue as unknown as WebAssembly.ModuleImports) };
  for (const [name, fn] of Object.entries(imports)) {
    if (!name.startsWith('__wbg_setTimeout_') || typeof fn !== 'function') continue;
    imports[name] = (...args: unknown[]) => {
      const timer = (fn as (...a: unknown[]) => unknown)(...args);
      (timer as { unref?: () => void } | undefined)?.unref?.();
      return timer;
    };
  }
  return imports;
}

export async function withSchemaEngine<T>(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  fn: (engine: Engine) => Promise<T>,
): Promise<T> {
  const mod = await loadEngineModule();
  const engine = await mod.SchemaEngine.new(
    { datamodels: undefined },
    () => undefined,
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
  try {
    return await fn(engine);
  } finally {
    engine.free();
  }
}
