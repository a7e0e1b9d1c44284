import { BoundedCache } from './bounded-cache';

/** A cache whose clock the test moves. */
function cacheWithClock(maxEntries: number) {
  const clock = { now: 1_000 };
  return { clock, cache: new BoundedCache<string, number>(maxEntries, () => clock.now) };
}

describe('BoundedCache', () => {
  describe('when it holds maxEntries entries', () => {
    it('should evict the least recently set entry on the next insert', () => {
      const { cache } = cacheWithClock(2);
      cache.set('a', 1, 10_000);
      cache.set('b', 2, 10_000);
      cache.set('c', 3, 10_000);
      expect(cache.size).toBe(2);
      expect(cache.get('a')).toBeUndefined();
      expect(cache.get('b')).toBe(2);
      expect(cache.get('c')).toBe(3);
    });

    it('should count a read as a use, evicting an unused entry instead', () => {
      const { cache } = cacheWithClock(2);
      cache.set('a', 1, 10_000);
      cache.set('b', 2, 10_000);
      expect(cache.get('a')).toBe(1);
      cache.set('c', 3, 10_000);
      expect(cache.get('b')).toBeUndefined();
      expect(cache.get('a')).toBe(1);
    });

    it('should keep an entry that is read while thousands of others come and go', () => {
      const { cache } = cacheWithClock(100);
      cache.set('hot', 0, 10_000);
      for (let i = 0; i < 10_000; i++) {
        cache.set(`cold-${i}`, i, 10_000);
        if (i % 10 === 0) expect(cache.get('hot')).toBe(0);
      }
      expect(cache.size).toBeLessThanOrEqual(100);
    });

    it('should always keep the most recent half of maxEntries', () => {
      const { cache } = cacheWithClock(100);
      for (let i = 0; i < 1_234; i++) cache.set(`key-${i}`, i, 10_000);
      for (let i = 1_234 - 50; i < 1_234; i++) expect(cache.get(`key-${i}`)).toBe(i);
    });

    it('should overwrite an existing key without evicting another', () => {
      const { cache } = cacheWithClock(2);
      cache.set('a', 1, 10_000);
      cache.set('b', 2, 10_000);
      cache.set('a', 10, 10_000);
      expect(cache.size).toBe(2);
      expect(cache.get('a')).toBe(10);
      expect(cache.get('b')).toBe(2);
    });

    it('should never grow past maxEntries however many keys arrive', () => {
      const { cache } = cacheWithClock(100);
      for (let i = 0; i < 10_000; i++) cache.set(`key-${i}`, i, 10_000);
      expect(cache.size).toBe(100);
      expect(cache.get('key-9999')).toBe(9999);
      expect(cache.get('key-9899')).toBeUndefined();
    });
  });

  describe('when an entry reaches its TTL', () => {
    it('should serve it until just before the TTL and drop it at the TTL', () => {
      const { cache, clock } = cacheWithClock(10);
      cache.set('a', 1, 500);
      clock.now += 499;
      expect(cache.get('a')).toBe(1);
      clock.now += 1;
      expect(cache.get('a')).toBeUndefined();
      expect(cache.size).toBe(0);
    });

    it('should not extend the TTL when the entry is read', () => {
      const { cache, clock } = cacheWithClock(10);
      cache.set('a', 1, 500);
      clock.now += 400;
      expect(cache.get('a')).toBe(1);
      clock.now += 100;
      expect(cache.get('a')).toBeUndefined();
    });

    it('should give each entry its own TTL', () => {
      const { cache, clock } = cacheWithClock(10);
      cache.set('short', 1, 100);
      cache.set('long', 2, 1_000);
      clock.now += 100;
      expect(cache.get('short')).toBeUndefined();
      expect(cache.get('long')).toBe(2);
    });
  });

  describe('when entries are removed', () => {
    it('should delete one key', () => {
      const { cache } = cacheWithClock(10);
      cache.set('a', 1, 1_000);
      cache.delete('a');
      expect(cache.get('a')).toBeUndefined();
    });

    it('should clear only the keys the predicate matches', () => {
      const { cache } = cacheWithClock(10);
      cache.set('note:susan', 1, 1_000);
      cache.set('note:bob', 2, 1_000);
      cache.set('admin:susan', 3, 1_000);
      cache.clear((key) => key.startsWith('note:'));
      expect(cache.size).toBe(1);
      expect(cache.get('admin:susan')).toBe(3);
    });

    it('should clear everything without a predicate', () => {
      const { cache } = cacheWithClock(10);
      cache.set('a', 1, 1_000);
      cache.set('b', 2, 1_000);
      cache.clear();
      expect(cache.size).toBe(0);
    });
  });

  describe('when an entry is set without a TTL', () => {
    it('should keep it however far the clock moves, until it is evicted for room', () => {
      const { clock, cache } = cacheWithClock(2);
      cache.set('memo', 1);
      clock.now += 10 * 365 * 24 * 3_600_000;
      expect(cache.get('memo')).toBe(1);
      cache.set('b', 2);
      cache.set('c', 3);
      cache.set('d', 4);
      expect(cache.get('memo')).toBeUndefined();
      expect(cache.size).toBe(2);
    });
  });
});
