import { existsSync } from 'node:fs';
import '../notes/support/notes-test-setup';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type ElementHandle, type HTTPResponse, type Page } from 'puppeteer-core';
import { DEMO_NOTES } from '../../apps/notes/src/notes/demo-notes';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { startConsoleNotes, type ConsoleNotes } from './support/console-notes';

/** Debian's Chromium (`apt-get install chromium`), or the browser CHROME_PATH names. */
const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium';
/** Where the screenshots of the views go, for docs/console.md; written only by tests that passed up to that point. */
const SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'console');
const DESKTOP = { width: 1100, height: 800 };
const PHONE = { width: 375, height: 740 };
const WAIT_MS = 15_000;
const CONFIDENTIAL = DEMO_NOTES.find((note) => note.confidential)!.id;

jest.setTimeout(90_000);

// The functions given to page.evaluate() and friends run in the browser; the project compiles without the DOM library.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any, window: any, localStorage: any, sessionStorage: any;

/** Waits until the element `selector` shows `text` (and is not hidden). */
async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(
    (where: string, wanted: string) => {
      const node = document.querySelector(where);
      return !!node && node.checkVisibility() && (node.textContent ?? '').includes(wanted);
    },
    { timeout: WAIT_MS },
    selector,
    text,
  );
}

const textOf = (page: Page, selector: string) => page.$eval(selector, (node) => (node.textContent ?? '').replace(/\s+/g, ' ').trim());

/** Clicks the visible button inside `scope` whose accessible label, text, or first text is `label`. */
async function clickButton(page: Page, label: string, scope = 'body'): Promise<void> {
  const handle = await page.waitForFunction(
    (where: string, wanted: string) => {
      const root = document.querySelector(where);
      if (!root) return null;
      return (
        [...root.querySelectorAll('button')].find(
          (button: any) => button.checkVisibility() && (button.getAttribute('aria-label') === wanted || button.textContent?.trim() === wanted || button.firstChild?.textContent?.trim() === wanted),
        ) ?? null
      );
    },
    { timeout: WAIT_MS },
    scope,
    label,
  );
  await (handle.asElement() as ElementHandle).click();
}

async function fill(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(selector, (input) => (input.value = ''));
  if (value !== '') await page.type(selector, value);
}

/** Whether the element is rendered (not hidden by an attribute, by CSS, or by an ancestor). */
const isShown = (page: Page, selector: string) => page.$eval(selector, (node) => node.checkVisibility());

const hasNoHorizontalScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

// The policy console in a real browser (Debian's Chromium, headless) against the notes app as `npm start` runs it:
// sign-in through the local provider's login page, the policies, explain and audit views, conflicts, a refused
// user, and phone width.
describe('the policy console (/authz/console/)', () => {
  let app: ConsoleNotes;
  let browser: Browser;
  let carolContext: BrowserContext;
  let carol: Page;
  /** The admin API's answers to carol's page, newest last. */
  const carolAnswers: { method: string; url: string; status: number }[] = [];

  const shots = new Map<string, Uint8Array>();
  /** Takes a screenshot now; `saveShots()` writes the test's screenshots once its assertions have passed. */
  const shoot = async (page: Page, name: string, fullPage = true) => shots.set(name, await page.screenshot({ fullPage }));
  const saveShots = async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    for (const [name, image] of shots) await writeFile(join(SCREENSHOTS, `${name}.png`), image);
    shots.clear();
  };

  const susanSees = async () => {
    const response = await app.call('susan', 'GET', '/notes');
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string }[]).map((note) => note.id);
  };

  /** Opens the console in a fresh browser context (no cookies of the provider) and signs `user` in on the login page. */
  async function signIn(user: string, context: BrowserContext, options: { prepare?: (page: Page) => void; onLogin?: (page: Page) => Promise<void> } = {}): Promise<Page> {
    const page = await context.newPage();
    options.prepare?.(page);
    await page.setViewport(DESKTOP);
    await page.goto(app.consoleUrl, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#sign-in-button:not([disabled])', { visible: true, timeout: WAIT_MS });
    await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.click('#sign-in-button')]);
    // The provider's login page: one radio button per demo user and a "Sign in" button.
    await page.waitForSelector(`input[type="radio"][value="${user}"]`, { timeout: WAIT_MS });
    await page.click(`input[type="radio"][value="${user}"]`);
    await options.onLogin?.(page);
    await Promise.all([page.waitForNavigation({ waitUntil: 'networkidle0', timeout: WAIT_MS }), page.click('button[type="submit"]')]);
    await waitForText(page, '#who-name', user);
    return page;
  }

  beforeAll(async () => {
    app = await startConsoleNotes();
    if (!existsSync(CHROME_PATH)) {
      throw new Error(`No browser at ${CHROME_PATH}: the console's browser tests need Chromium. Install it (Debian: apt-get install chromium) or point CHROME_PATH at a Chrome or Chromium.`);
    }
    browser = await puppeteer.launch({
      executablePath: CHROME_PATH,
      headless: true,
      // Runs as root in CI: Chromium's sandbox needs a normal user. /dev/shm is small in containers.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    carolContext = await browser.createBrowserContext();
  }, FIRST_DATABASE_TIMEOUT_MS + 30_000);

  // A test that failed leaves its screenshots unsaved; the next one starts without them.
  beforeEach(() => shots.clear());

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("should sign carol in through the login page, revoke susan's CanReadConfidentialNotes, and hide the confidential note from susan's next call", async () => {
    expect(await susanSees()).toContain(CONFIDENTIAL);

    carol = await signIn('carol', carolContext, {
      prepare: (page) =>
        page.on('response', (response: HTTPResponse) => {
          const url = new URL(response.url());
          if (url.pathname.startsWith('/authz/') && !url.pathname.startsWith('/authz/console/')) carolAnswers.push({ method: response.request().method(), url: url.pathname + url.search, status: response.status() });
        }),
      onLogin: async (login) => void (await shoot(login, 'login')),
    });
    // Back on the console: the code and state are gone from the address bar, and no token is stored anywhere.
    const address = new URL(carol.url());
    expect(address.origin + address.pathname).toBe(app.consoleUrl);
    expect(address.search).toBe('');
    expect(await carol.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }))).toEqual({ local: 0, session: 0 });
    expect(await textOf(carol, '#who')).toContain('Signed in as carol');
    expect(await isShown(carol, '#sign-in')).toBe(false);
    expect(await isShown(carol, '#denied')).toBe(false);

    await clickButton(carol, 'note', '#policy-list');
    await waitForText(carol, '#role-list', 'Permissions of role reader');
    await waitForText(carol, '#identity-role-list', 'notes-admin → moderator');
    await waitForText(carol, '#subject-list', 'susan');
    expect(await textOf(carol, '#roles-revision')).toMatch(/revision \d+/);

    await clickButton(carol, 'susan', '#subject-list');
    await waitForText(carol, '#subject-title', 'Subject susan');
    await waitForText(carol, '#subject-permissions', 'CanReadConfidentialNotes');
    await waitForText(carol, '#subject-roles', 'reader');
    // The per-resource part: susan holds no role on a single note; alice owns two demo notes.
    await waitForText(carol, '#subject-resources', 'No roles on single resources.');

    await clickButton(carol, 'Revoke permission CanReadConfidentialNotes from susan', '#subject');
    await waitForText(carol, '#status', 'Revoked permission CanReadConfidentialNotes from susan');
    await waitForText(carol, '#subject-permissions', 'No direct permissions.');
    const revoke = carolAnswers.find((answer) => answer.method === 'DELETE');
    expect(revoke).toEqual({ method: 'DELETE', url: '/authz/policies/note/subjects/susan/permissions/CanReadConfidentialNotes', status: 204 });

    // susan's next call, with a token from the provider: the confidential note is gone.
    expect(await susanSees()).not.toContain(CONFIDENTIAL);
    await shoot(carol, 'policies');
    await saveShots();
  });

  it("should show alice's roles on single notes, and search subjects by prefix", async () => {
    await fill(carol, '#subject-prefix', 'al');
    await carol.click('#subject-search button[type="submit"]');
    await carol.waitForFunction(() => !document.querySelector('#subject-list')!.textContent!.includes('susan'), { timeout: WAIT_MS });
    await clickButton(carol, 'alice', '#subject-list');
    await waitForText(carol, '#subject-title', 'Subject alice');
    await waitForText(carol, '#subject-resources', `resource ${DEMO_NOTES[0].id}: owner`);
    expect(carolAnswers.some((answer) => answer.url.startsWith('/authz/policies/note/subjects?prefix=al'))).toBe(true);
    await fill(carol, '#subject-prefix', '');
    await carol.click('#subject-search button[type="submit"]');
    await waitForText(carol, '#subject-list', 'susan');
  });

  it('should explain a decision with its grant path, and a denial with none', async () => {
    await clickButton(carol, 'Explain', '#views');
    await carol.select('#explain-policy', 'note');
    await fill(carol, '#explain-subject', 'susan');
    await fill(carol, '#explain-permission', 'CanReadConfidentialNotes');
    await carol.click('#explain button[type="submit"]');
    await waitForText(carol, '#explain-verdict', 'Denied: susan may not CanReadConfidentialNotes');

    await fill(carol, '#explain-subject', 'carol');
    await fill(carol, '#explain-roles', 'notes-admin');
    await carol.click('#explain button[type="submit"]');
    await waitForText(carol, '#explain-verdict', 'Allowed: carol may CanReadConfidentialNotes in policy note');
    expect(await textOf(carol, '#explain-paths')).toContain('identity role notes-admin (from the token) → role moderator → permission CanReadConfidentialNotes');

    await fill(carol, '#explain-subject', 'alice');
    await fill(carol, '#explain-permission', 'CanEdit');
    await fill(carol, '#explain-resource', DEMO_NOTES[0].id);
    await fill(carol, '#explain-roles', '');
    await carol.click('#explain button[type="submit"]');
    await waitForText(carol, '#explain-verdict', `Allowed: alice may CanEdit on resource ${DEMO_NOTES[0].id}`);
    const path = await textOf(carol, '#explain-paths');
    expect(path).toContain(`role owner on resource ${DEMO_NOTES[0].id} → permission CanEdit`);
    const fields = await carol.$$eval('#explain-paths dl > div', (pairs) => pairs.map((pair: any) => `${pair.querySelector('dt').textContent}: ${pair.querySelector('dd').textContent}`));
    expect(fields).toEqual(['via: resource-role', 'role: owner', `resource: ${DEMO_NOTES[0].id}`, 'permission: CanEdit']);
    await shoot(carol, 'explain');
    await saveShots();
  });

  it("should show carol's change first in the audit trail, filtered by policy and subject", async () => {
    await clickButton(carol, 'Audit', '#views');
    await waitForText(carol, '#audit-list > li:first-child', 'revoke-permission');
    await carol.select('#audit-policy', 'note');
    await fill(carol, '#audit-subject', 'susan');
    await carol.click('#audit-filter button[type="submit"]');
    await carol.waitForFunction(() => document.querySelectorAll('#audit-list > li').length === 1, { timeout: WAIT_MS });
    const entry = await textOf(carol, '#audit-list > li:first-child');
    expect(entry).toContain('carol');
    expect(entry).toContain('revoke-permission');
    expect(entry).toContain('{"subject":"susan"}');
    expect(entry).toContain('{"roles":["reader"],"permissions":["CanReadConfidentialNotes"]} → {"roles":["reader"],"permissions":[]}');
    expect(carolAnswers.some((answer) => answer.url.startsWith('/authz/audit?') && answer.url.includes('order=newest-first') && answer.status === 200)).toBe(true);
    await shoot(carol, 'audit');
    await saveShots();
  });

  it('should answer a concurrent edit with the conflict message, reload, and then grant the permission back', async () => {
    await clickButton(carol, 'Policies', '#views');
    await clickButton(carol, 'susan', '#subject-list');
    await waitForText(carol, '#subject-title', 'Subject susan');
    const shown = Number((await textOf(carol, '#subject-revision')).replace(/\D/g, ''));

    // Someone else changes policy note in between (through the API, as carol from another tool).
    const other = await app.call('carol', 'PUT', '/authz/policies/note/subjects/bob/roles/reader', { scopes: ['authz:admin'] });
    expect(other.status).toBe(204);

    await carol.select('#grant-kind', 'permission');
    await fill(carol, '#grant-name', 'CanReadConfidentialNotes');
    await carol.click('#grant button[type="submit"]');
    await waitForText(carol, '#status', 'changed by someone else since you loaded it');
    expect(await textOf(carol, '#status')).toContain('reload and try again');
    expect(carolAnswers.filter((answer) => answer.method === 'PUT').at(-1)?.status).toBe(409);
    expect(await susanSees()).not.toContain(CONFIDENTIAL);
    // The view was reloaded: it shows the newer revision, and bob among the subjects.
    await carol.waitForFunction((before: number) => Number(document.querySelector('#subject-revision')!.textContent!.replace(/\D/g, '')) > before, { timeout: WAIT_MS }, shown);
    await waitForText(carol, '#subject-list', 'bob');
    await shoot(carol, 'conflict', false);

    // Try again: now at the revision shown, the grant goes through.
    await carol.click('#grant button[type="submit"]');
    await waitForText(carol, '#status', 'Granted permission CanReadConfidentialNotes to susan');
    expect(await susanSees()).toContain(CONFIDENTIAL);
    await saveShots();
  });

  it("should edit a role's permissions, and name the field of a refused one", async () => {
    await clickButton(carol, 'Policies', '#views');
    const input = '#role-list input[value="CanRead, CanWrite"]';
    await carol.waitForSelector(input, { timeout: WAIT_MS });
    await fill(carol, input, 'CanRead CanWrite,CanShare');
    await clickButton(carol, 'Save the permissions of role writer', '#role-list');
    await waitForText(carol, '#status', 'Role writer of policy note now grants CanRead, CanWrite, CanShare');
    const role = await app.call('carol', 'GET', '/authz/policies/note/roles', { scopes: ['authz:admin'] });
    expect(((await role.json()) as { roles: Record<string, string[]> }).roles.writer).toEqual(['CanRead', 'CanShare', 'CanWrite']);

    const field = '#role-list input[value="CanRead, CanShare, CanWrite"]';
    await carol.waitForSelector(field, { timeout: WAIT_MS });
    await carol.$eval(field, (node) => (node.value = 'CanRead, \u0007'));
    await clickButton(carol, 'Save the permissions of role writer', '#role-list');
    await waitForText(carol, '#status', 'Refused:');
    expect(await textOf(carol, '#status')).toContain('permissions[1]');
    await fill(carol, field, 'CanRead, CanWrite');
    await clickButton(carol, 'Save the permissions of role writer', '#role-list');
    await waitForText(carol, '#status', 'Role writer of policy note now grants CanRead, CanWrite;');
  });

  it('should show bob, who holds no CanAdminister, a clear "not allowed" and no data, as the API refused him', async () => {
    const context = await browser.createBrowserContext();
    try {
      const answers: number[] = [];
      const bob = await signIn('bob', context, {
        prepare: (page) =>
          page.on('response', (response: HTTPResponse) => {
            if (new URL(response.url()).pathname === '/authz/policies') answers.push(response.status());
          }),
      });
      await waitForText(bob, '#status', "Not allowed: Policy 'authz' does not grant: CanAdminister");
      await waitForText(bob, '#denied-message', "Policy 'authz' does not grant: CanAdminister");
      expect(await isShown(bob, '#denied')).toBe(true);
      expect(await isShown(bob, '#views')).toBe(false);
      expect(await bob.$$eval('.view', (nodes) => nodes.every((node: any) => !node.checkVisibility()))).toBe(true);
      expect(await textOf(bob, '#policy-list')).toBe('');
      expect(answers).toEqual([403]);
      // The API's own answer to bob's token: 403 naming the missing permission.
      const response = await app.call('bob', 'GET', '/authz/policies', { scopes: ['authz:admin'] });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ policy: 'authz', missingPermissions: ['CanAdminister'] });
      await shoot(bob, 'not-allowed');
      await saveShots();
    } finally {
      await context.close();
    }
  });

  it('should render every view at phone width (375×740) without horizontal scrolling', async () => {
    await carol.setViewport(PHONE);
    await clickButton(carol, 'Policies', '#views');
    await clickButton(carol, 'susan', '#subject-list');
    await waitForText(carol, '#subject-title', 'Subject susan');
    expect(await hasNoHorizontalScroll(carol)).toBe(true);
    await shoot(carol, 'phone-policies');
    await clickButton(carol, 'Explain', '#views');
    expect(await hasNoHorizontalScroll(carol)).toBe(true);
    await clickButton(carol, 'Audit', '#views');
    await carol.click('#audit-filter button[type="submit"]');
    await waitForText(carol, '#audit-list > li:first-child', 'carol');
    expect(await hasNoHorizontalScroll(carol)).toBe(true);
    await shoot(carol, 'phone-audit');
    await carol.setViewport(DESKTOP);
    await saveShots();
  });

  it('should page through subjects with "More" and through the audit trail with "Older"', async () => {
    const many = Array.from({ length: 55 }, (_, index) => `user-${String(index).padStart(2, '0')}`);
    for (const subject of many) {
      const granted = await app.call('carol', 'PUT', `/authz/policies/note/subjects/${subject}/roles/reader`, { scopes: ['authz:admin'] });
      expect(granted.status).toBe(204);
    }
    await clickButton(carol, 'Policies', '#views');
    await clickButton(carol, 'note', '#policy-list');
    await waitForText(carol, '#subject-list', 'susan');
    await fill(carol, '#subject-prefix', 'user-');
    await carol.click('#subject-search button[type="submit"]');
    const shownSubjects = () => carol.$$eval('#subject-list button', (buttons) => buttons.map((button: any) => button.textContent));
    await carol.waitForFunction(
      () => {
        const buttons = [...document.querySelectorAll('#subject-list button')];
        return buttons.length === 50 && buttons.every((button: any) => button.textContent.startsWith('user-'));
      },
      { timeout: WAIT_MS },
    );
    expect(await shownSubjects()).toEqual(many.slice(0, 50));
    await clickButton(carol, 'More', '#view-policies');
    await carol.waitForFunction(() => document.querySelectorAll('#subject-list button').length === 55, { timeout: WAIT_MS });
    expect(await shownSubjects()).toEqual(many);
    expect(await isShown(carol, '#subjects-more')).toBe(false);

    await clickButton(carol, 'Audit', '#views');
    await carol.select('#audit-policy', 'note');
    await fill(carol, '#audit-subject', '');
    await carol.click('#audit-filter button[type="submit"]');
    await waitForText(carol, '#audit-list > li:first-child', '{"subject":"user-54"}');
    expect(await carol.$$eval('#audit-list > li', (entries) => entries.length)).toBe(50);
    await clickButton(carol, 'Older', '#view-audit');
    await carol.waitForFunction(() => document.querySelectorAll('#audit-list > li').length > 50, { timeout: WAIT_MS });
    expect(await textOf(carol, '#audit-list > li:nth-child(51)')).toContain('{"subject":"user-04"}');
  });

  it('should say "the server is unreachable" when a write cannot reach it, and ask to sign in again on a 401', async () => {
    await clickButton(carol, 'Policies', '#views');
    await clickButton(carol, 'note', '#policy-list');
    await clickButton(carol, 'susan', '#subject-list');
    await waitForText(carol, '#subject-title', 'Subject susan');
    await carol.setRequestInterception(true);
    const cut = (request: import('puppeteer-core').HTTPRequest) => {
      if (request.method() === 'DELETE') void request.abort('connectionrefused');
      else if (request.url().includes('/authz/policies/note/subjects/susan')) void request.respond({ status: 401, contentType: 'application/json', body: JSON.stringify({ statusCode: 401, message: 'The token has expired' }) });
      else void request.continue();
    };
    carol.on('request', cut);
    try {
      await clickButton(carol, 'Revoke role reader from susan', '#subject');
      await waitForText(carol, '#status', 'The server is unreachable');
      expect(await susanSees()).toContain(DEMO_NOTES[0].id);

      await clickButton(carol, 'susan', '#subject-list');
      await carol.waitForSelector('#sign-in', { visible: true, timeout: WAIT_MS });
      await waitForText(carol, '#status', 'The token has expired');
      expect(await textOf(carol, '#status')).toContain('sign in again');
      expect(await isShown(carol, '#views')).toBe(false);
    } finally {
      carol.off('request', cut);
      await carol.setRequestInterception(false);
    }
  });

  it('should forget the token on sign-out and show the sign-in screen', async () => {
    carol = await signIn('carol', await browser.createBrowserContext());
    await waitForText(carol, '#policy-list', 'note');
    await clickButton(carol, 'Sign out');
    await carol.waitForSelector('#sign-in', { visible: true, timeout: WAIT_MS });
    await waitForText(carol, '#status', 'Signed out');
    expect(await isShown(carol, '#who')).toBe(false);
    expect(await isShown(carol, '#views')).toBe(false);
    expect(await textOf(carol, '#policy-list')).toBe('');
    expect(await carol.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }))).toEqual({ local: 0, session: 0 });
    await shoot(carol, 'sign-in');
    // Signing in again shows the provider's login page, even though the provider still knows carol.
    await Promise.all([carol.waitForNavigation({ timeout: WAIT_MS }), carol.click('#sign-in-button')]);
    await carol.waitForSelector('input[type="radio"][value="carol"]', { timeout: WAIT_MS });
    await saveShots();
  });
});
