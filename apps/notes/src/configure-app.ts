import { ValidationPipe, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';

/** Largest JSON body accepted; a note at its limits (10 000 characters, even \u-escaped) fits well below it. */
export const JSON_BODY_LIMIT = '128kb';

/**
 * HTTP settings shared by `npm start` and the tests: JSON bodies up to {@link JSON_BODY_LIMIT} (413 above),
 * and DTO validation that refuses unknown fields and wrong types with messages naming the field.
 * Call before `app.init()` / `app.listen()`; the app must be created with `{ bodyParser: false }`.
 */
export function configureNotesApp(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  express.disable('x-powered-by');
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
    }),
  );
}
