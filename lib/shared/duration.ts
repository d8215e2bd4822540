/**
 * A whole number of seconds as a Go duration in the largest exact unit (`1h`, `90m`, `45s`), as
 * etcd's retention flag and cert-manager's fields read them (etcd takes a bare number as hours).
 */
export function goDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
