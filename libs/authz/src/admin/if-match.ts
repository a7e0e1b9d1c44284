import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';

// `"7"`, `W/"7"` (a weak tag names the same revision) or a bare `7`, which clients often send.
const REVISION_TAG = /^(?:(?:W\/)?"(\d{1,15})"|(\d{1,15}))$/;

/**
 * The revision an `If-Match` header asks a write to be conditional on, or `undefined` when there is none.
 * Accepts `"7"`, `W/"7"` and `7`; anything else (a list, `*`, text) is a 400 naming the header, so that a
 * mistyped condition never turns into an unconditional write.
 *
 * @example
 * parseIfMatch('W/"7"');  // 7
 * parseIfMatch(undefined); // undefined
 * parseIfMatch('"a", "b"'); // throws BadRequestException
 */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? REVISION_TAG.exec(header.trim()) : null;
  if (!match) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: 'If-Match must be one revision as returned in ETag, e.g. "7"',
      field: 'If-Match',
    });
  }
  return Number(match[1] ?? match[2]);
}

/**
 * Hands the handler the revision of the request's `If-Match` header (see {@link parseIfMatch}), for the edit's
 * `ifRevision`.
 *
 * @example
 * \@Put(':policy')
 * put(@IfMatch() ifRevision: number | undefined) {}
 */
export const IfMatch = createParamDecorator((_data: unknown, context: ExecutionContext): number | undefined =>
  parseIfMatch(context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers['if-match']),
);

/**
 * The `ETag` value of a policy revision.
 *
 * @example
 * etagOf(7); // '"7"'
 */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}
