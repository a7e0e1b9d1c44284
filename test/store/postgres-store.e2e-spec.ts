import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { databaseBackends, openStore } from '../support/postgres';
import { describePolicyStoreContract } from './support/store-contract';

jest.setTimeout(FIRST_DATABASE_TIMEOUT_MS);

// The same SQL through both drivers: what `npm start` runs (PGlite) is what runs with DATABASE_URL (pg).
for (const [name, open] of databaseBackends()) {
  describePolicyStoreContract(`PostgresPolicyStore on ${name}`, async () => {
    const database = await open();
    return { store: await openStore(database), dispose: () => database.dispose() };
  });
}
