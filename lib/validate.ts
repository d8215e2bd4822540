/** Member counts etcd supports well: odd, so every member adds failure tolerance. */
export const ALLOWED_MEMBER_COUNTS = [1, 3, 5, 7];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Members needed for quorum. */
export function quorumOf(members: number): number {
  return Math.floor(members / 2) + 1;
}

/** Members that can fail while the cluster keeps quorum. */
export function failureToleranceOf(members: number): number {
  return members - quorumOf(members);
}

/**
 * Throw unless `value` is 1, 3, 5 or 7, explaining why.
 * @param property the prop name to report (`members`, `nodes`)
 */
export function validateMemberCount(property: string, value: number): void {
  if (!ALLOWED_MEMBER_COUNTS.includes(value)) {
    const reason = Number.isInteger(value) && value > 1 && value % 2 === 0
      ? `an even count adds no failure tolerance (${value} members tolerate ${failureToleranceOf(value)} failure(s), like ${value - 1})`
      : 'etcd needs a majority (quorum) of members to make progress: 1 tolerates no failure, 3 tolerate 1, 5 tolerate 2, 7 tolerate 3, and more than 7 slow every write';
    throw new Error(`${property} must be one of ${ALLOWED_MEMBER_COUNTS.join(', ')} (got ${value}): ${reason}`);
  }
}

/** Throw unless `value` is a DNS-1123 label (lowercase alphanumerics and '-', at most `maxLength`). */
export function validateDnsLabel(property: string, value: string, maxLength = 63): void {
  if (typeof value !== 'string' || !DNS1123_LABEL.test(value) || value.length > maxLength) {
    throw new Error(`${property} must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most ${maxLength} characters (got '${value}')`);
  }
}

/** Throw unless `value` is a DNS-1035 label (a DNS-1123 label that starts with a letter), as Service names must be. */
export function validateServiceName(property: string, value: string, maxLength = 63): void {
  if (typeof value !== 'string' || !DNS1035_LABEL.test(value) || value.length > maxLength) {
    throw new Error(`${property} must start with a lowercase letter and contain only lowercase letters, digits and '-', ending with a letter or digit, at most ${maxLength} characters, because it names Services (got '${value}')`);
  }
}

/** Throw unless `value` is a DNS-1123 subdomain, like a cluster domain. */
export function validateDnsSubdomain(property: string, value: string): void {
  if (typeof value !== 'string' || !DNS1123_SUBDOMAIN.test(value) || value.length > 253) {
    throw new Error(`${property} must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got '${value}')`);
  }
}

/** Throw unless `value` is a whole number in [min, max]. */
export function validateInteger(property: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new Error(`${property} must be a whole number ${range} (got ${value})`);
  }
}
