import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * A PostgreSQL server to run the notes app against, e.g. postgres://postgres@127.0.0.1:5432/postgres (`.ci/run`
 * sets it). Without it, only the embedded-database variants run.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/**
 * A database of its own on the test server, made with CREATE DATABASE and dropped afterwards: the notes app uses
 * its own tables and the store's `authz` schema, so suites sharing the server keep apart by database.
 */
export async function freshServerDatabase(): Promise<{ url: string; remove(): Promise<void> }> {
  const name = `notes_test_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return { url: url.toString(), remove: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function onServer(sql: string): Promise<void> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
