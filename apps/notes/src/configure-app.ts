import { ValidationPipe, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MAX_NAME_LENGTH } from 'nestjs-authz';

/** Largest JSON body accepted; a note at its limits (10 000 characters, even \u-escaped) fits well below it. */
export const JSON_BODY_LIMIT = '128kb';
const JSON_BODY_LIMIT_BYTES = 128 * 1024;

/**
 * Longest route parameter, as sent (percent-encoded), that Fastify routes: a subject (`/notes/:id/shares/:subject`)
 * may have {@link MAX_NAME_LENGTH} (255) characters, and one character is up to 12 when percent-encoded (4 UTF-8
 * bytes, `%XX` each). Fastify's default of 100 would answer 414 to a valid subject before the app sees it (see the
 * library's AdminPlatformCheck); Express has no such limit.
 */
export const MAX_PARAM_LENGTH = MAX_NAME_LENGTH * 12 + 1;

/**
 * The adapter to run the notes app on Fastify instead of Express: the same body limit (413 above) and route
 * parameters long enough for every valid subject (and longer ones, to be refused with 400 naming the field).
 *
 * @example
 * const app = await NestFactory.create<NestFastifyApplication>(module, notesFastifyAdapter());
 * configureNotesApp(app);
 */
export function notesFastifyAdapter(): FastifyAdapter {
  return new FastifyAdapter({ bodyLimit: JSON_BODY_LIMIT_BYTES, routerOptions: { maxParamLength: MAX_PARAM_LENGTH } });
}

/**
 * HTTP settings shared by `npm start` and the tests: JSON bodies up to {@link JSON_BODY_LIMIT} (413 above),
 * and DTO validation that refuses unknown fields and wrong types with messages naming the field.
 * Call before `app.init()` / `app.listen()`. On Express the app must be created with `{ bodyParser: false }`; on
 * Fastify, with {@link notesFastifyAdapter} (which sets the body limit itself).
 */
export function configureNotesApp(app: INestApplication): void {
  if (app.getHttpAdapter().getType() === 'express') {
    const express = app as NestExpressApplication;
    express.useBodyParser('json', { limit: JSON_BODY_LIMIT });
    express.disable('x-powered-by');
  }
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
    }),
  );
}
