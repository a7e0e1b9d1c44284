/** Freezes an object graph, so configuration and claims cannot be changed by whoever receives them. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    // Indexed loop, recursing only into objects: this runs once per newly verified token.
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const child = (value as Record<string, unknown>)[keys[i]];
      if (typeof child === 'object' && child !== null) deepFreeze(child);
    }
  }
  return value;
}
