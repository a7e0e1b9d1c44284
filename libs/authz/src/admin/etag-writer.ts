import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { etagOf } from './if-match';

/**
 * Sets `ETag: "<revision>"` on a response, on Express and Fastify alike (through the HTTP adapter).
 *
 * @example
 * get(@Res({ passthrough: true }) response: unknown) { this.etags.set(response, policy.revision); return policy; }
 */
@Injectable()
export class ETagWriter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  set(response: unknown, revision: number): void {
    this.adapterHost.httpAdapter.setHeader(response, 'ETag', etagOf(revision));
  }
}
