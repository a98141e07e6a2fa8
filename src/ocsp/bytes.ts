// Byte helpers for the hot path: no copies, and no native calls for the short arrays
// (hashes, serials, names) that verification compares.

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length > 64) return Buffer.compare(a, b) === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A plain Uint8Array view of the same bytes: its subarrays are cheaper to make than Buffer's. */
export function plainView(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * An exact-size copy outside Node's shared buffer pool. Small Buffers are slices of 8 KiB pool
 * slabs, and keeping one alive keeps its whole slab: long-lived bytes (certificates, staples)
 * get their own memory.
 */
export function ownedCopy(b: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(b.length);
  copy.set(b);
  return copy;
}

/** A serial number as openssl prints it: hex, upper case, without the sign-padding zero byte. */
export function serialHex(serial: Uint8Array): string {
  const s = serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('hex').toUpperCase();
}
