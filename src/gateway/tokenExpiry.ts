/** setTimeout's longest delay; a token may live 30 days, far beyond it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onExpire` once `expiresAt` has passed, so a socket never outlives its token; returns a function
 * that cancels. Long waits are taken in steps (setTimeout fires at once past ~24.8 days).
 */
export function armTokenExpiry(expiresAt: Date, onExpire: () => void, now = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = expiresAt.getTime() - now();
    if (left <= 0) {
      timer = undefined;
      onExpire();
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
}
