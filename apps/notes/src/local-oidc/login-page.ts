import { DEMO_USER_NAMES, DEMO_USERS } from './demo-users';

/** What the login page shows. */
export interface LoginPageOptions {
  /** Where the form posts: `/interaction/<uid>`. */
  readonly action: string;
  /** The client asking, e.g. `notes-console`. */
  readonly clientId: string;
  /** The scopes it asks for. */
  readonly scopes: readonly string[];
  /** Why the last submission was refused; shown above the form. */
  readonly error?: string;
  /** The user picked last time (kept when the form comes back with an error). */
  readonly selected?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text made safe for HTML content and quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => ESCAPES[char]);

/**
 * The local provider's sign-in page: one radio button per demo user, each with its label, and one "Sign in" button.
 * Plain HTML, no JavaScript; works on a phone (viewport meta) and with a screen reader (fieldset/legend, labels,
 * the error in an alert region that the fieldset is described by).
 */
export function renderLoginPage(options: LoginPageOptions): string {
  const error = options.error ? `<p id="error" class="error" role="alert">${escapeHtml(options.error)}</p>` : '';
  const users = DEMO_USER_NAMES.map((name) => {
    const roles = DEMO_USERS[name].roles;
    const id = `user-${name}`;
    const hint = roles?.length ? ` <span class="roles">(identity role${roles.length > 1 ? 's' : ''}: ${roles.map(escapeHtml).join(', ')})</span>` : '';
    const checked = options.selected === name ? ' checked' : '';
    return `      <div class="user"><input type="radio" id="${id}" name="user" value="${escapeHtml(name)}" required${checked}> <label for="${id}">${escapeHtml(name)}${hint}</label></div>`;
  }).join('\n');
  const scopes = options.scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(' ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in - notes local OpenID provider</title>
  <style>
    body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 28rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
    fieldset { border: 1px solid #767676; border-radius: 0.25rem; padding: 0.75rem 1rem; }
    .user { padding: 0.25rem 0; }
    .roles { color: #4a4a4a; }
    input[type="radio"] { width: 1.1rem; height: 1.1rem; vertical-align: middle; }
    button { margin-top: 1rem; font: inherit; padding: 0.5rem 1.5rem; }
    .error { color: #a00000; font-weight: bold; }
    .note { color: #4a4a4a; font-size: 0.9rem; }
  </style>
</head>
<body>
  <main>
    <h1>Sign in</h1>
    <p><code>${escapeHtml(options.clientId)}</code> asks for ${scopes}.</p>
    ${error}
    <form method="post" action="${escapeHtml(options.action)}">
      <fieldset${options.error ? ' aria-describedby="error"' : ''}>
        <legend>Demo user</legend>
${users}
      </fieldset>
      <button type="submit">Sign in</button>
    </form>
    <p class="note">This is the notes app's local development OpenID provider: there are no passwords, anyone who can
    reach it can sign in as any demo user. Signing in also grants the scopes above (no consent screen).</p>
  </main>
</body>
</html>
`;
}

/** A short page for a request that cannot go on (no or an expired sign-in, a bad request). */
export function renderProblemPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} - notes local OpenID provider</title>
</head>
<body>
  <main>
    <h1>${escapeHtml(title)}</h1>
    <p>${escapeHtml(message)}</p>
  </main>
</body>
</html>
`;
}
