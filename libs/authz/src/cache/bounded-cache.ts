/**
 * A map with a size cap (least recently used entries go first) and a per-entry expiry, so that memory stays
 * bounded however many distinct keys arrive. Time comes from `now()` so tests can move the clock.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose key matches, or all entries without a predicate. */
  clear(predicate?: (key: K, value: V) => boolean): void {
    if (!predicate) return this.entries.clear();
    for (const [key, entry] of this.entries) {
      if (predicate(key, entry.value)) this.entries.delete(key);
    }
  }
}
