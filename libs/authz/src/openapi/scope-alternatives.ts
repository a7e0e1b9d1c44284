import { AuthzConfigurationError } from '../authz.exceptions';
import type { RequirementGroup } from '../decorators/requirement';

/** More alternatives than this means the decorators describe something no reader of the document could use. */
export const MAX_SCOPE_ALTERNATIVES = 256;

/**
 * Turns a route's scope groups (every group must hold; an all-of group needs all its names, an any-of group one
 * of them) into the sets of scopes of which any one suffices: an OpenAPI `security` array is an OR of
 * requirement objects, each an AND of its scopes. Groups are multiplied out, duplicates dropped, and a set that
 * contains another set is dropped too (it asks for more than needed). No groups gives one empty set: a valid token
 * with any scopes.
 *
 * @example
 * scopeAlternatives([
 *   { mode: 'all', names: ['a', 'b'] },
 *   { mode: 'any', names: ['c', 'd'] },
 * ]); // [['a', 'b', 'c'], ['a', 'b', 'd']]
 */
export function scopeAlternatives(groups: readonly RequirementGroup[]): string[][] {
  let alternatives: string[][] = [[]];
  for (const group of groups) {
    const choices = group.mode === 'all' ? [group.names] : group.names.map((name) => [name]);
    const next: string[][] = [];
    for (const alternative of alternatives) {
      for (const choice of choices) next.push([...new Set([...alternative, ...choice])]);
    }
    alternatives = minimal(next);
    if (alternatives.length > MAX_SCOPE_ALTERNATIVES) {
      throw new AuthzConfigurationError(
        `the route's @Scopes.anyOf() groups multiply out to more than ${MAX_SCOPE_ALTERNATIVES} alternative scope sets.`,
        'simplify the scope requirements (e.g. one scope that implies the others) so that the OpenAPI document stays readable.',
      );
    }
  }
  return alternatives;
}

/** Drops duplicate sets and sets that contain another set, keeping the first occurrence's order. */
function minimal(sets: string[][]): string[][] {
  const kept: string[][] = [];
  sets.forEach((set, index) => {
    const redundant = sets.some((other, otherIndex) => {
      if (otherIndex === index || !other.every((name) => set.includes(name))) return false;
      // `other` is a subset of `set`: a strict subset always wins; of two equal sets the first is kept.
      return other.length < set.length || otherIndex < index;
    });
    if (!redundant) kept.push(set);
  });
  return kept;
}
