// Parsed OCSP requests by their exact text. A server asks the same question for each of its
// certificates again and again (RFC 5019 clients send no nonce), and parsing is the largest part
// of an answer's cost. Bounded in entries and key size; when full it starts over, so a flood of
// distinct requests costs what it would cost without the memo.

export const REQUEST_MEMO_LIMITS = { entries: 1024, keyChars: 1024 } as const;

export class RequestMemo<T> {
  private readonly map = new Map<string, T>();

  /** The value for `key`, made (and kept when `keep` says so) on a miss. */
  get(key: string, make: () => T, keep: (value: T) => boolean = () => true): T {
    // A key over the size limit is never kept, so it is not looked up either (hashing 8 KiB costs).
    if (key.length > REQUEST_MEMO_LIMITS.keyChars) return make();
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = make();
    if (keep(value)) {
      if (this.map.size >= REQUEST_MEMO_LIMITS.entries) this.map.clear();
      this.map.set(key, value);
    }
    return value;
  }

  get size(): number {
    return this.map.size;
  }
}
