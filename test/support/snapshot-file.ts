import { createHash } from 'crypto';

/**
 * A stand-in for what `etcdctl snapshot save` writes: a database of whole 512-byte pages, then the sha256 of those
 * pages, which etcd appends and a restore checks. `corrupt` flips a byte after the hash was taken.
 */
export function validSnapshot(pages = 2, corrupt = false): Buffer {
  const db = Buffer.alloc(512 * pages, 7);
  const hash = createHash('sha256').update(db).digest();
  if (corrupt) db[100] = 8;
  return Buffer.concat([db, hash]);
}
