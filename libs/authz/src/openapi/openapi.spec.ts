import { scopeAlternatives } from './scope-alternatives';
import { toOpenApiPath } from './app-routes';
import { AuthzConfigurationError } from '../authz.exceptions';

describe('scopeAlternatives', () => {
  it('should give one empty set when there are no groups', () => {
    expect(scopeAlternatives([])).toEqual([[]]);
  });

  it('should keep an all-of group as one set and split an any-of group into alternatives', () => {
    expect(scopeAlternatives([{ mode: 'all', names: ['a', 'b'] }])).toEqual([['a', 'b']]);
    expect(scopeAlternatives([{ mode: 'any', names: ['a', 'b'] }])).toEqual([['a'], ['b']]);
  });

  it('should multiply groups out: (A and B) and (C or D)', () => {
    expect(scopeAlternatives([{ mode: 'all', names: ['A', 'B'] }, { mode: 'any', names: ['C', 'D'] }])).toEqual([['A', 'B', 'C'], ['A', 'B', 'D']]);
    expect(scopeAlternatives([{ mode: 'any', names: ['a', 'b'] }, { mode: 'any', names: ['c', 'd'] }])).toEqual([['a', 'c'], ['a', 'd'], ['b', 'c'], ['b', 'd']]);
  });

  it('should drop repeated names, duplicate sets and sets that ask for more than another', () => {
    // (a and b) and (a or c): {a, b} suffices, {a, b, c} asks for more.
    expect(scopeAlternatives([{ mode: 'all', names: ['a', 'b'] }, { mode: 'any', names: ['a', 'c'] }])).toEqual([['a', 'b']]);
    expect(scopeAlternatives([{ mode: 'any', names: ['a', 'b'] }, { mode: 'any', names: ['b', 'a'] }])).toEqual([['a'], ['b']]);
  });

  it('should refuse requirements that multiply out to an unreadable number of sets', () => {
    const group = { mode: 'any' as const, names: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((name, index) => `${name}${index}`) };
    const groups = [1, 2, 3].map((n) => ({ ...group, names: group.names.map((name) => `${name}-${n}`) }));
    expect(() => scopeAlternatives(groups)).toThrow(AuthzConfigurationError);
  });
});

describe('toOpenApiPath', () => {
  it.each([
    [undefined, ''],
    ['/', ''],
    ['notes', '/notes'],
    ['/api/notes/:id', '/api/notes/{id}'],
    ['/files/*path', '/files/{path}'],
    ['/files{/:name}', '/files/{name}'],
    ['/notes/:"note id"', '/notes/{note id}'],
    [['/first/:a', '/second'], '/first/{a}'],
  ])('should turn %p into %p', (route, expected) => {
    expect(toOpenApiPath(route as string | string[] | undefined)).toBe(expected);
  });
});
