import type { RunningNotes } from './notes-server';

const line = (label: string, value: string, note = '') => `${label.padEnd(23)}${value}${note ? `   (${note})` : ''}`;

/** What `npm start` prints once everything listens: where things are and the next command to run. */
export function startBanner(notes: Pick<RunningNotes, 'apiUrl' | 'issuer' | 'localProvider' | 'database'>, audience: string): string {
  const lines = [line('Notes API', notes.apiUrl, 'GET /health is public; /notes needs a bearer token')];
  if (notes.localProvider) {
    lines.push(line('Local OpenID provider', notes.issuer, `development only: demo users susan, alice, bob, carol; audience ${audience}`));
  } else {
    lines.push(line('Trusted issuer', notes.issuer, `audience ${audience}`));
  }
  lines.push(line('Database', notes.database), '', 'Next, in another terminal:');
  if (notes.localProvider) {
    lines.push('  TOKEN=$(npm run --silent token -- susan)');
  } else {
    lines.push(`  TOKEN=<an access token from ${notes.issuer} for audience ${audience}>`);
  }
  lines.push(`  curl -H "Authorization: Bearer $TOKEN" ${notes.apiUrl}/notes`, '', 'Stop with Ctrl+C.');
  return `${lines.join('\n')}\n`;
}
