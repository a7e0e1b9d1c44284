import { ADMIN_SCOPE } from 'nestjs-authz/admin';
import { isDemoUser } from './local-oidc/demo-users';
import type { RunningNotes } from './notes-server';

const line = (label: string, value: string, note = '') => `${label.padEnd(23)}${value}${note ? `   (${note})` : ''}`;

/** What `npm start` prints once everything listens: where things are and the next command to run. */
export function startBanner(notes: Pick<RunningNotes, 'apiUrl' | 'issuer' | 'localProvider' | 'database' | 'adminUrl' | 'adminSubjects' | 'consoleUrl'>, audience: string): string {
  const lines = [line('Notes API', notes.apiUrl, 'GET /health is public; /notes needs a bearer token')];
  lines.push(line('Admin API', notes.adminUrl, `grants in the policy store; needs scope ${ADMIN_SCOPE} and CanAdminister in policy 'authz'`));
  if (notes.consoleUrl) {
    const who = notes.localProvider ? notes.adminSubjects.find(isDemoUser) : undefined;
    lines.push(line('Policy console', notes.consoleUrl, who ? `open it in a browser and sign in as ${who}` : 'open it in a browser and sign in as an administrator'));
  }
  if (notes.localProvider) {
    lines.push(line('Local OpenID provider', notes.issuer, `development only: demo users susan, alice, bob, carol; audience ${audience}`));
  } else {
    lines.push(line('Trusted issuer', notes.issuer, `audience ${audience}`));
  }
  lines.push(line('Database', notes.database, "notes, and the policy store in schema 'authz'"), '', 'Next, in another terminal:');
  if (notes.localProvider) {
    lines.push('  TOKEN=$(npm run --silent token -- susan)');
  } else {
    lines.push(`  TOKEN=<an access token from ${notes.issuer} for audience ${audience}>`);
  }
  lines.push(`  curl -H "Authorization: Bearer $TOKEN" ${notes.apiUrl}/notes`);
  // The demo administrator, when there is one the local provider knows.
  const admin = notes.localProvider ? notes.adminSubjects.find(isDemoUser) : undefined;
  if (admin) {
    lines.push(`  ADMIN=$(npm run --silent token -- ${admin} ${ADMIN_SCOPE})`, `  curl -H "Authorization: Bearer $ADMIN" ${notes.adminUrl}/policies/note`);
  }
  lines.push('', 'Stop with Ctrl+C.');
  return `${lines.join('\n')}\n`;
}
