import type { z } from 'zod';

/**
 * One zod issue as `path: message`. An issue at the top level is named `root` (`envelope`), or, without
 * a root, shown as its message alone.
 */
export function describeIssue(issue: z.core.$ZodIssue, root?: string): string {
  const path = issue.path.map(String).join('.');
  if (path) return `${path}: ${issue.message}`;
  return root ? `${root}: ${issue.message}` : issue.message;
}

/** Every issue of a failed parse in one line (at most `limit` of them), for errors and logs. */
export function describeIssues(error: z.ZodError, opts: { root?: string; limit?: number } = {}): string {
  return error.issues
    .slice(0, opts.limit)
    .map((i) => describeIssue(i, opts.root))
    .join('; ');
}
