// The policy console: a native ES module, no framework, no build. It talks only to the admin API, with the signed-in
// user's access token, which lives in this module's memory only (never in localStorage or sessionStorage).

/** Where the PKCE verifier and `state` wait during the round trip to the provider; deleted on return. */
const PKCE_KEY = 'authz-console:pkce';
/** Parameters of the provider's answer that are removed from the address bar once read. */
const ANSWER_PARAMS = ['code', 'state', 'error', 'error_description', 'error_uri', 'iss', 'session_state'];
const PAGE_SIZE = 50;

const $ = (id) => document.getElementById(id);

/** The signed-in user: in memory only. */
const session = { token: null, subject: null, signedOut: false };
let config = null;
let discovery = null;

/** What the policies view shows, with the revision each part was loaded at (sent back as If-Match). */
const view = {
  /** Per list, the number of the latest load: an answer to an older one arrives late and is dropped. */
  loads: { roles: 0, subjects: 0, subject: 0, audit: 0 },
  policies: [],
  policy: null,
  rolesRevision: null,
  subjectsRevision: null,
  subjectsNext: undefined,
  prefix: '',
  subject: null,
  subjectRevision: null,
  resourcesNext: undefined,
  auditNext: undefined,
  auditFilter: { policy: '', subject: '' },
  auditLoaded: false,
};

// ---------------------------------------------------------------------------------------------------------------
// Small DOM helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

function show(node, visible) {
  node.hidden = !visible;
}

/** A message in the status region (`aria-live="polite"`): `kind` is `info`, `ok` or `error`. */
function say(message, kind = 'info') {
  const status = $('status');
  status.replaceChildren(el('p', { class: `message ${kind}` }, message));
}

function unsay() {
  clear($('status'));
}

const compact = (value) => (value === undefined ? '—' : JSON.stringify(value));
const list = (names) => (names.length === 0 ? 'none' : names.join(', '));
const splitNames = (text) => text.split(/[\s,]+/).filter((name) => name !== '');
const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------------------------
// The admin API

class ApiError extends Error {
  constructor(status, body) {
    super(describeFailure(status, body));
    this.status = status;
    this.body = body;
  }

  /** A 409 for a revision that changed in between (not a role in use). */
  get conflict() {
    return this.status === 409 && this.body && this.body.expectedRevision !== undefined;
  }
}

function apiMessage(body) {
  if (body && typeof body === 'object') {
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    if (message) return String(message);
    if (body.error_description) return String(body.error_description);
    if (body.error) return String(body.error);
  }
  return typeof body === 'string' && body !== '' ? body : 'no details';
}

function describeFailure(status, body) {
  const message = apiMessage(body);
  if (status === 0) return 'The server is unreachable; check that it is running and try again.';
  if (status === 401) return `Your sign-in is not accepted any more (${message}); sign in again.`;
  if (status === 403) return `Not allowed: ${message}`;
  if (status === 409 && body && body.expectedRevision !== undefined) {
    return `Policy ${body.policy} was changed by someone else since you loaded it (you saw revision ${body.expectedRevision}, it is now at ${body.revision}); reload and try again. The view has been reloaded.`;
  }
  if (status === 409) return `Refused: ${message}`;
  if (status === 400) return body && body.field ? `Refused: ${message} (field: ${body.field})` : `Refused: ${message}`;
  if (status === 404) return `Not found: ${message}`;
  if (status === 503) return `The policy store is unavailable: ${message}`;
  return `The server answered ${status}: ${message}`;
}

/**
 * Calls the admin API: `path` under `config.api`, every path part already encoded by the caller. `revision` is
 * sent as `If-Match`. Resolves with `{ data, revision }` (the ETag's revision, when there is one), rejects with
 * an ApiError (status 0 when the server could not be reached).
 */
async function api(method, path, { query, body, revision } = {}) {
  const url = new URL(`${config.api}${path}`, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  const headers = { Accept: 'application/json', Authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (revision !== undefined && revision !== null) headers['If-Match'] = `"${revision}"`;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text === '' ? null : JSON.parse(text);
  } catch {
    data = text;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  const etag = /^(?:W\/)?"(\d+)"$/.exec(response.headers.get('ETag') ?? '');
  return { data, revision: etag ? Number(etag[1]) : undefined };
}

/** Shows what went wrong; a 401 ends the session (sign in again), a revision conflict reloads the policy. */
async function failed(error) {
  if (!(error instanceof ApiError)) {
    say(`Something went wrong in the console: ${error && error.message ? error.message : String(error)}`, 'error');
    return;
  }
  if (error.status === 401) {
    forget();
    showSignIn();
    say(error.message, 'error');
    return;
  }
  say(error.message, 'error');
  if (error.conflict && view.policy) {
    await refreshPolicy().catch(() => {});
    say(error.message, 'error');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in: authorization code flow with PKCE (S256)

const pageUrl = () => location.origin + location.pathname;

function base64url(bytes) {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomText = (length) => base64url(crypto.getRandomValues(new Uint8Array(length)));

/** A JWT's claims, decoded without verification: only to show who is signed in (the API verifies the token). */
function claimsOf(jwt) {
  try {
    const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '=')), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

async function getJson(url, unreachable) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch {
    throw new Error(unreachable);
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

async function startSignIn() {
  if (!crypto.subtle) {
    say('Signing in needs a secure page (https, or http on localhost or 127.0.0.1): this browser offers no crypto.subtle here.', 'error');
    return;
  }
  const verifier = randomText(32);
  const state = randomText(16);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(discovery.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', pageUrl());
  url.searchParams.set('scope', config.scopes);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  // After a sign-out, ask the provider for its login page again instead of reusing its own session.
  if (session.signedOut) url.searchParams.set('prompt', 'login');
  location.assign(url.toString());
}

/** Back from the provider: check `state`, exchange the code, keep the token in memory, clean the address bar. */
async function finishSignIn(params) {
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null');
  sessionStorage.removeItem(PKCE_KEY);
  const address = new URL(location.href);
  for (const name of ANSWER_PARAMS) address.searchParams.delete(name);
  history.replaceState(null, '', address.pathname + address.search + address.hash);

  if (params.get('error')) {
    say(`The identity provider did not sign you in: ${params.get('error_description') ?? params.get('error')}`, 'error');
    return;
  }
  if (!saved || saved.state !== params.get('state')) {
    say('The answer of the identity provider does not belong to a sign-in started here; sign in again.', 'error');
    return;
  }
  // RFC 9207: a provider that names itself in the answer must be the one the sign-in went to (mix-up attacks).
  const iss = params.get('iss');
  if ((iss !== null || discovery.authorization_response_iss_parameter_supported === true) && iss !== discovery.issuer) {
    say(`The answer came from another identity provider (${iss ?? 'none named'}) than ${discovery.issuer}; sign in again.`, 'error');
    return;
  }
  let response;
  try {
    response = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: pageUrl(), client_id: config.clientId, code_verifier: saved.verifier }),
    });
  } catch {
    say('The identity provider is unreachable; sign in again later.', 'error');
    return;
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || typeof answer.access_token !== 'string') {
    say(`The identity provider did not issue a token: ${apiMessage(answer)}`, 'error');
    return;
  }
  session.token = answer.access_token;
  session.subject = claimsOf(answer.access_token).sub ?? (answer.id_token ? claimsOf(answer.id_token).sub : undefined) ?? 'unknown';
}

function forget() {
  session.token = null;
  session.subject = null;
}

function signOut() {
  forget();
  session.signedOut = true;
  resetData();
  showSignIn();
  say('Signed out: the console forgot your token.', 'ok');
}

// ---------------------------------------------------------------------------------------------------------------
// Screens

function showSignIn() {
  show($('who'), false);
  show($('views'), false);
  show($('denied'), false);
  for (const section of document.querySelectorAll('.view')) show(section, false);
  show($('sign-in'), true);
  $('sign-in-button').disabled = !discovery;
  $('sign-in-provider').textContent = discovery ? `Identity provider: ${discovery.issuer}` : '';
}

function resetData() {
  view.policies = [];
  view.policy = null;
  view.subject = null;
  view.auditLoaded = false;
  for (const id of ['policy-list', 'role-list', 'identity-role-list', 'subject-list', 'subject-roles', 'subject-permissions', 'subject-resources', 'audit-list', 'explain-paths']) clear($(id));
  show($('policy'), false);
  show($('subject'), false);
  show($('explain-result'), false);
}

async function enter() {
  show($('sign-in'), false);
  $('who-name').textContent = session.subject;
  show($('who'), true);
  let answer;
  try {
    answer = (await api('GET', '/policies')).data;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      $('denied-message').textContent = apiMessage(error.body);
      show($('denied'), true);
      say(error.message, 'error');
      return;
    }
    await failed(error);
    return;
  }
  view.policies = answer.policies;
  renderPolicyList();
  fillPolicySelects();
  show($('views'), true);
  switchView('policies', false);
  say(`Signed in as ${session.subject}.`, 'ok');
}

function switchView(name, focus = true) {
  for (const button of $('views').querySelectorAll('button')) {
    if (button.dataset.view === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  for (const section of document.querySelectorAll('.view')) show(section, section.id === `view-${name}`);
  if (focus) {
    unsay();
    const heading = $(`${name}-title`);
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  if (name === 'audit' && !view.auditLoaded) loadAudit(true).catch(failed);
}

// ---------------------------------------------------------------------------------------------------------------
// Policies

function renderPolicyList() {
  const target = clear($('policy-list'));
  for (const policy of view.policies) {
    target.append(
      el('li', {}, el('button', { type: 'button', 'aria-pressed': String(policy.name === view.policy), onclick: () => selectPolicy(policy.name).catch(failed) }, policy.name, el('span', { class: 'revision' }, ` revision ${policy.revision}`))),
    );
  }
}

function fillPolicySelects() {
  const explain = clear($('explain-policy'));
  const audit = clear($('audit-policy'));
  audit.append(el('option', { value: '' }, 'any'));
  for (const policy of view.policies) {
    explain.append(el('option', { value: policy.name, selected: policy.name === view.policy }, policy.name));
    audit.append(el('option', { value: policy.name, selected: policy.name === view.auditFilter.policy }, policy.name));
  }
}

async function selectPolicy(name) {
  view.policy = name;
  view.subject = null;
  view.prefix = '';
  $('subject-prefix').value = '';
  renderPolicyList();
  $('explain-policy').value = name;
  $('policy-title').textContent = `Policy ${name}`;
  show($('policy'), true);
  show($('subject'), false);
  unsay();
  await Promise.all([loadRoles(), loadSubjects(true)]);
}

/** Reloads everything the policies view shows of the selected policy (after a write, or a conflict). */
async function refreshPolicy() {
  const loads = [loadRoles(), loadSubjects(true)];
  if (view.subject) loads.push(loadSubject(view.subject));
  await Promise.all(loads);
  const summary = view.policies.find((policy) => policy.name === view.policy);
  if (summary && view.rolesRevision !== null) {
    summary.revision = view.rolesRevision;
    renderPolicyList();
  }
}

async function loadRoles() {
  const policy = view.policy;
  const load = ++view.loads.roles;
  const { data } = await api('GET', `/policies/${enc(policy)}/roles`);
  if (load !== view.loads.roles) return;
  view.rolesRevision = data.revision;
  $('roles-revision').textContent = `(revision ${data.revision})`;
  const roles = clear($('role-list'));
  Object.entries(data.roles).forEach(([role, permissions], index) => {
    const id = `role-${index}`;
    roles.append(
      el(
        'li',
        {},
        el(
          'form',
          { class: 'inline', onsubmit: (event) => (event.preventDefault(), saveRole(role, event.currentTarget.elements.permissions.value)) },
          el('label', { for: id }, 'Permissions of role ', el('strong', {}, role)),
          el('input', { id, name: 'permissions', value: permissions.join(', '), autocomplete: 'off' }),
          el('button', { type: 'submit', 'aria-label': `Save the permissions of role ${role}` }, 'Save'),
        ),
      ),
    );
  });
  if (roles.children.length === 0) roles.append(el('li', { class: 'muted' }, 'No roles.'));
  const identityRoles = clear($('identity-role-list'));
  for (const [identityRole, given] of Object.entries(data.identityRoles)) {
    identityRoles.append(el('li', {}, el('code', {}, identityRole), ' → ', list(given)));
  }
  if (identityRoles.children.length === 0) identityRoles.append(el('li', { class: 'muted' }, 'No identity roles.'));
}

async function loadSubjects(reset) {
  const policy = view.policy;
  const load = ++view.loads.subjects;
  const { data } = await api('GET', `/policies/${enc(policy)}/subjects`, { query: { prefix: view.prefix, after: reset ? undefined : view.subjectsNext, limit: PAGE_SIZE } });
  if (load !== view.loads.subjects) return;
  view.subjectsRevision = data.revision;
  view.subjectsNext = data.next;
  $('subjects-revision').textContent = `(revision ${data.revision})`;
  const target = $('subject-list');
  if (reset) clear(target);
  for (const grants of data.subjects) {
    target.append(
      el(
        'li',
        {},
        el('button', { type: 'button', class: 'link', 'aria-pressed': String(grants.subject === view.subject), onclick: () => selectSubject(grants.subject).catch(failed) }, grants.subject),
        el('span', { class: 'muted' }, ` roles: ${list(grants.roles)} · permissions: ${list(grants.permissions)}`),
      ),
    );
  }
  if (reset && data.subjects.length === 0) target.append(el('li', { class: 'muted' }, view.prefix ? `No subject starts with “${view.prefix}”.` : 'No subject holds grants.'));
  show($('subjects-more'), data.next !== undefined);
}

async function selectSubject(subject) {
  view.subject = subject;
  for (const button of $('subject-list').querySelectorAll('button')) button.setAttribute('aria-pressed', String(button.textContent === subject));
  await loadSubject(subject);
  show($('subject'), true);
  $('subject-title').focus();
}

async function loadSubject(subject) {
  const policy = view.policy;
  const load = ++view.loads.subject;
  const [{ data }, resources] = await Promise.all([
    api('GET', `/policies/${enc(policy)}/subjects/${enc(subject)}`),
    api('GET', `/policies/${enc(policy)}/subjects/${enc(subject)}/resources`, { query: { limit: PAGE_SIZE } }),
  ]);
  if (load !== view.loads.subject) return;
  view.subjectRevision = data.revision;
  $('subject-title').textContent = `Subject ${subject}`;
  $('subject-revision').textContent = `revision ${data.revision}`;
  const grantRow = (kind, name) =>
    el('li', {}, el('code', {}, name), ' ', el('button', { type: 'button', 'aria-label': `Revoke ${kind} ${name} from ${subject}`, onclick: () => write('DELETE', kind, name) }, 'Revoke'));
  const roles = clear($('subject-roles'));
  data.roles.forEach((role) => roles.append(grantRow('role', role)));
  if (data.roles.length === 0) roles.append(el('li', { class: 'muted' }, 'No roles.'));
  const permissions = clear($('subject-permissions'));
  data.permissions.forEach((permission) => permissions.append(grantRow('permission', permission)));
  if (data.permissions.length === 0) permissions.append(el('li', { class: 'muted' }, 'No direct permissions.'));
  clear($('subject-resources'));
  renderResources(resources.data, true);
}

function renderResources(page, reset) {
  view.resourcesNext = page.next;
  const target = $('subject-resources');
  for (const held of page.resources) target.append(el('li', {}, 'resource ', el('code', {}, held.resource), `: ${list(held.roles)}`));
  if (reset && page.resources.length === 0) target.append(el('li', { class: 'muted' }, 'No roles on single resources.'));
  show($('resources-more'), page.next !== undefined);
}

async function moreResources() {
  const page = await api('GET', `/policies/${enc(view.policy)}/subjects/${enc(view.subject)}/resources`, { query: { after: view.resourcesNext, limit: PAGE_SIZE } });
  renderResources(page.data, false);
}

/** Grants (PUT) or revokes (DELETE) a role or permission of the selected subject, at the revision shown. */
async function write(method, kind, name) {
  const { policy, subject } = view;
  const path = `/policies/${enc(policy)}/subjects/${enc(subject)}/${kind === 'role' ? 'roles' : 'permissions'}/${enc(name)}`;
  try {
    const { revision } = await api(method, path, { revision: view.subjectRevision });
    await refreshPolicy();
    say(`${method === 'PUT' ? 'Granted' : 'Revoked'} ${kind} ${name} ${method === 'PUT' ? 'to' : 'from'} ${subject} in policy ${policy}; now at revision ${revision}.`, 'ok');
    return true;
  } catch (error) {
    await failed(error);
    return false;
  }
}

async function saveRole(role, text) {
  const policy = view.policy;
  const permissions = splitNames(text);
  try {
    const { revision } = await api('PUT', `/policies/${enc(policy)}/roles/${enc(role)}`, { body: { permissions }, revision: view.rolesRevision });
    await refreshPolicy();
    say(`Role ${role} of policy ${policy} now grants ${list(permissions)}; now at revision ${revision}.`, 'ok');
    return true;
  } catch (error) {
    await failed(error);
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Explain

const PATH_LABELS = [
  ['via', 'via'],
  ['identityRole', 'identity role'],
  ['role', 'role'],
  ['resource', 'resource'],
  ['permission', 'permission'],
];

function describePath(path) {
  if (path.via === 'permission') return `held directly: permission ${path.permission}`;
  if (path.via === 'role') return `role ${path.role} → permission ${path.permission}`;
  if (path.via === 'identity-role') return `identity role ${path.identityRole} (from the token) → role ${path.role} → permission ${path.permission}`;
  if (path.via === 'resource-role') return `role ${path.role} on resource ${path.resource} → permission ${path.permission}`;
  return JSON.stringify(path);
}

async function explain(form) {
  const values = Object.fromEntries(new FormData(form));
  const roles = splitNames(values.roles ?? '');
  const query = { subject: values.subject.trim(), permission: values.permission.trim(), resource: values.resource.trim(), roles: roles.join(',') };
  const { data } = await api('GET', `/policies/${enc(values.policy)}/explain`, { query });
  const on = query.resource ? ` on resource ${query.resource}` : '';
  const verdict = $('explain-verdict');
  verdict.textContent = data.allowed
    ? `Allowed: ${query.subject} may ${query.permission}${on} in policy ${values.policy}`
    : `Denied: ${query.subject} may not ${query.permission}${on} in policy ${values.policy}; no grant path`;
  verdict.className = data.allowed ? 'allowed' : 'denied';
  const paths = clear($('explain-paths'));
  for (const path of data.because) {
    const details = el('dl', { class: 'path' });
    for (const [key, label] of PATH_LABELS) if (path[key] !== undefined) details.append(el('div', {}, el('dt', {}, label), el('dd', {}, path[key])));
    paths.append(el('li', {}, el('p', {}, describePath(path)), details));
  }
  show($('explain-result'), true);
  unsay();
  verdict.focus();
}

// ---------------------------------------------------------------------------------------------------------------
// Audit

async function loadAudit(reset) {
  const { policy, subject } = view.auditFilter;
  const load = ++view.loads.audit;
  const { data } = await api('GET', '/audit', { query: { order: 'newest-first', policy, subject, before: reset ? undefined : view.auditNext, limit: PAGE_SIZE } });
  if (load !== view.loads.audit) return;
  view.auditLoaded = true;
  view.auditNext = data.next;
  const target = $('audit-list');
  if (reset) clear(target);
  for (const entry of data.entries) {
    const when = new Date(entry.at);
    target.append(
      el(
        'li',
        {},
        el(
          'p',
          { class: 'entry-head' },
          el('time', { datetime: entry.at }, Number.isNaN(when.getTime()) ? entry.at : when.toLocaleString()),
          ' · ',
          el('strong', {}, entry.actor),
          ' · ',
          el('code', {}, entry.action),
          ` · policy ${entry.policy} · revision ${entry.revision}`,
        ),
        el('p', {}, 'target ', el('code', {}, compact(entry.target))),
        el('p', { class: 'change' }, 'before → after: ', el('code', {}, compact(entry.before)), ' → ', el('code', {}, compact(entry.after))),
      ),
    );
  }
  if (reset && data.entries.length === 0) target.append(el('li', { class: 'muted' }, 'No audit entries.'));
  show($('audit-older'), data.next !== undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $('sign-in-button').addEventListener('click', () => startSignIn().catch((error) => say(`Could not start the sign-in: ${error.message}`, 'error')));
  $('sign-out').addEventListener('click', signOut);
  for (const button of $('views').querySelectorAll('button')) button.addEventListener('click', () => switchView(button.dataset.view));
  $('subject-search').addEventListener('submit', (event) => {
    event.preventDefault();
    view.prefix = $('subject-prefix').value.trim();
    loadSubjects(true).catch(failed);
  });
  $('subjects-more').addEventListener('click', () => loadSubjects(false).catch(failed));
  $('resources-more').addEventListener('click', () => moreResources().catch(failed));
  $('grant').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('grant-name').value.trim();
    if (name !== '') write('PUT', $('grant-kind').value, name).then((done) => done && ($('grant-name').value = ''));
  });
  $('new-role').addEventListener('submit', (event) => {
    event.preventDefault();
    const role = $('new-role-name').value.trim();
    if (role !== '') saveRole(role, $('new-role-permissions').value).then((done) => done && event.target.reset());
  });
  $('explain').addEventListener('submit', (event) => {
    event.preventDefault();
    explain(event.currentTarget).catch(failed);
  });
  $('audit-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    view.auditFilter = { policy: $('audit-policy').value, subject: $('audit-subject').value.trim() };
    loadAudit(true).catch(failed);
  });
  $('audit-older').addEventListener('click', () => loadAudit(false).catch(failed));
}

async function boot() {
  // Served at <api>/console too: the page's own address is its base (<api>/console/), the redirect URI.
  const base = new URL(document.baseURI);
  if (base.origin === location.origin && base.pathname !== location.pathname && base.pathname === `${location.pathname}/`) {
    history.replaceState(null, '', base.pathname + location.search + location.hash);
  }
  wire();
  try {
    config = await getJson('config.json', 'The server is unreachable; reload the page when it runs again.');
    discovery = await getJson(`${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, `The identity provider (${config.issuer}) is unreachable; reload the page when it runs again.`);
  } catch (error) {
    showSignIn();
    say(error.message, 'error');
    return;
  }
  const params = new URLSearchParams(location.search);
  if (params.has('code') || params.has('error')) await finishSignIn(params);
  if (session.token) await enter();
  else showSignIn();
}

boot();
