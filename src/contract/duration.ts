/** Durations live in src/time, a leaf that channel modules may import (contract depends on them). */
export { DURATION_PATTERN, parseDuration } from '../time/duration';
