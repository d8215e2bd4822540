import { EtcdConfigError } from './errors';

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
  validateNumber(property, value);
  if (!ALLOWED_MEMBER_COUNTS.includes(value)) {
    const reason = Number.isInteger(value) && value > 1 && value % 2 === 0
      ? `an even count adds no failure tolerance (${value} members tolerate ${failureToleranceOf(value)} failure(s), like ${value - 1})`
      : 'etcd needs a majority (quorum) of members to make progress: 1 tolerates no failure, 3 tolerate 1, 5 tolerate 2, 7 tolerate 3, and more than 7 slow every write';
    throw new EtcdConfigError(`${property} must be one of ${ALLOWED_MEMBER_COUNTS.join(', ')} (got ${value}): ${reason}`);
  }
}

/** Throw unless `value` is a DNS-1123 label (lowercase alphanumerics and '-', at most `maxLength`). */
export function validateDnsLabel(property: string, value: string, maxLength = 63): void {
  if (typeof value !== 'string' || !DNS1123_LABEL.test(value) || value.length > maxLength) {
    throw new EtcdConfigError(`${property} must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most ${maxLength} characters (got '${value}')`);
  }
}

/** Throw unless `value` is a DNS-1035 label (a DNS-1123 label that starts with a letter), as Service names must be. */
export function validateServiceName(property: string, value: string, maxLength = 63): void {
  if (typeof value !== 'string' || !DNS1035_LABEL.test(value) || value.length > maxLength) {
    throw new EtcdConfigError(`${property} must start with a lowercase letter and contain only lowercase letters, digits and '-', ending with a letter or digit, at most ${maxLength} characters, because it names Services (got '${value}')`);
  }
}

/** Throw unless `value` is a DNS-1123 subdomain, like a cluster domain. */
export function validateDnsSubdomain(property: string, value: string): void {
  if (typeof value !== 'string' || !DNS1123_SUBDOMAIN.test(value) || value.length > 253) {
    throw new EtcdConfigError(`${property} must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got '${value}')`);
  }
}

/** Throw unless `value` is a key a Secret can have. */
export function validateSecretKey(property: string, value: string): void {
  if (typeof value !== 'string' || !/^[-._a-zA-Z0-9]{1,253}$/.test(value)) {
    throw new EtcdConfigError(`${property} must be a Secret key: letters, digits, '-', '_' and '.' (got '${value}')`);
  }
}

/** Throw unless `value` is a whole number in [min, max]. */
export function validateInteger(property: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  validateNumber(property, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new EtcdConfigError(`${property} must be a whole number ${range} (got ${value})`);
  }
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Throw unless `key` is a Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function validateLabelKey(property: string, key: string): void {
  const slash = typeof key === 'string' ? key.lastIndexOf('/') : -1;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefixOk = prefix === undefined || (DNS1123_SUBDOMAIN.test(prefix) && prefix.length <= 253);
  if (typeof key !== 'string' || !prefixOk || !QUALIFIED_NAME.test(name) || name.length > 63) {
    throw new EtcdConfigError(`${property} key must be a Kubernetes label key: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (got '${key}')`);
  }
}

/** Throw unless `value` is a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit. */
export function validateLabelValue(property: string, value: string): void {
  if (typeof value !== 'string' || value.length > 63 || (value !== '' && !QUALIFIED_NAME.test(value))) {
    throw new EtcdConfigError(`${property} value must be a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (got '${value}')`);
  }
}

/** Throw unless every key and value of a label map is one Kubernetes accepts. */
export function validateLabels(property: string, labels: { [key: string]: string }): void {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new EtcdConfigError(`${property} must be a map of label keys to values (got ${JSON.stringify(labels)})`);
  }
  for (const [key, value] of Object.entries(labels)) {
    validateLabelKey(property, key);
    validateLabelValue(`${property} '${key}'`, value);
  }
}

/** The fields of a toleration that Kubernetes validates. */
interface TolerationFields {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Throw unless each toleration is one the API server accepts (its ValidateTolerations rules). */
export function validateTolerations(property: string, tolerations: TolerationFields[]): void {
  if (!Array.isArray(tolerations)) throw new EtcdConfigError(`${property} must be a list of tolerations (got ${JSON.stringify(tolerations)})`);
  tolerations.forEach((t, i) => {
    const at = `${property}[${i}]`;
    const operator = t.operator ?? 'Equal';
    if (!TOLERATION_OPERATORS.includes(operator)) {
      throw new EtcdConfigError(`${at}.operator must be one of ${TOLERATION_OPERATORS.join(', ')} (got '${t.operator}')`);
    }
    if (t.key !== undefined && t.key !== '') validateLabelKey(`${at}.key`, t.key);
    if ((t.key === undefined || t.key === '') && operator !== 'Exists') {
      throw new EtcdConfigError(`${at}.operator must be 'Exists' when key is empty (got '${operator}'): an empty key with Exists tolerates every taint`);
    }
    if (operator === 'Exists' && t.value !== undefined && t.value !== '') {
      throw new EtcdConfigError(`${at}.value must be empty when operator is 'Exists' (got '${t.value}')`);
    }
    if (t.value !== undefined) validateLabelValue(`${at}.value`, t.value);
    if (t.effect !== undefined && t.effect !== '' && !TAINT_EFFECTS.includes(t.effect)) {
      throw new EtcdConfigError(`${at}.effect must be one of ${TAINT_EFFECTS.join(', ')}, or empty for all (got '${t.effect}')`);
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      throw new EtcdConfigError(`${at}.tolerationSeconds needs effect 'NoExecute' (got effect '${t.effect ?? ''}'): only NoExecute taints evict`);
    }
  });
}

/**
 * Throw unless `value` is one of an enum's values. TypeScript checks this at compile time; JavaScript
 * and the other jsii languages can pass any string, which would otherwise fall through to a default.
 */
export function validateEnum<T extends string>(property: string, value: T, values: { [name: string]: T }): void {
  const allowed = Object.values(values);
  if (!allowed.includes(value)) {
    throw new EtcdConfigError(`${property} must be one of ${allowed.map((v) => `${v}`).join(', ')} (got ${JSON.stringify(value)})`);
  }
}

/** Throw unless `value` is a number at all; `'3'` from untyped JavaScript would otherwise read as 3 in messages. */
export function validateNumber(property: string, value: unknown): void {
  if (typeof value !== 'number') {
    throw new EtcdConfigError(`${property} must be a number (got ${typeof value} ${JSON.stringify(value)})`);
  }
}

/** Throw unless `value` is a clean absolute path (no whitespace, `..`, `//` or trailing slash). */
export function validateAbsolutePath(property: string, value: string): void {
  if (typeof value !== 'string' || !/^\/[^\s]*$/.test(value) || /(^|\/)\.\.?(\/|$)/.test(value) || value.includes('//') || (value.length > 1 && value.endsWith('/'))) {
    throw new EtcdConfigError(`${property} must be an absolute path without spaces, '.', '..', '//' or a trailing '/' (got '${value}')`);
  }
}
