import type { AppContext } from './appContext';

/** Builds the admin-side services on the context; each module adds its own factory call here. */
export function registerServices(_ctx: AppContext): void {}
