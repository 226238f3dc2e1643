import { createRequire, register } from 'node:module';

/** `import-in-the-middle/register-hooks.mjs`: its synchronous loader (import-in-the-middle 3.1 and later). */
interface SynchronousLoader {
  supportsSyncHooks(): boolean;
  register(options: { include: string[] }): void;
}

/**
 * Registers the loader hook that lets the instrumentations patch ES modules (`import express from
 * 'express'`); CommonJS modules need none. Only modules in `include` are intercepted.
 *
 * Where Node.js runs synchronous hooks correctly (22.22.3+, 24.11.1+, 26), this is
 * import-in-the-middle's `module.registerHooks()` loader, in this thread; elsewhere the off-thread
 * `module.register()` loader, which Node.js 26 deprecates (DEP0205). Both come from the copy of
 * import-in-the-middle that `@opentelemetry/instrumentation` itself uses: its `Hook()` calls only
 * reach a loader of the same copy.
 */
export function registerEsmHook(include: readonly string[]): void {
  const instrumentation = createRequire(import.meta.url).resolve('@opentelemetry/instrumentation');
  let loader: SynchronousLoader | undefined;
  try {
    loader = createRequire(instrumentation)('import-in-the-middle/register-hooks.mjs') as SynchronousLoader;
  } catch {
    // An import-in-the-middle without synchronous hooks: the asynchronous loader below.
  }
  if (loader?.supportsSyncHooks()) {
    loader.register({ include: [...include] });
  } else {
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: [...include] } });
  }
}
