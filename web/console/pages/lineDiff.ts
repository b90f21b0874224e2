export interface DiffRow {
  left: string | null;
  right: string | null;
  kind: 'same' | 'removed' | 'added' | 'changed';
}

/** Side-by-side rows of a line diff (longest common subsequence; versions are small). */
export function lineDiff(a: string[], b: string[]): DiffRow[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i -= 1)
    for (let j = m - 1; j >= 0; j -= 1)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const rows: DiffRow[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      rows.push({ left: a[i]!, right: b[j]!, kind: 'same' });
      i += 1;
      j += 1;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      rows.push({ left: a[i]!, right: null, kind: 'removed' });
      i += 1;
    } else {
      // An added line right after a removed one is that line changed: shown on one row.
      const prev = rows.at(-1);
      if (prev && prev.kind === 'removed' && prev.right === null) {
        prev.right = b[j]!;
        prev.kind = 'changed';
      } else rows.push({ left: null, right: b[j]!, kind: 'added' });
      j += 1;
    }
  }
  return rows;
}
