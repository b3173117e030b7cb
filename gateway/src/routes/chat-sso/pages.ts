/**
 * The chat site's own pages: sign-in and the sign-out confirmation. Plain HTML forms without
 * scripts (the Content-Security-Policy allows none), so they work in any browser.
 */
import { escapeHtml as e } from '../widget/demo-page.js';

/** No scripts, no framing, forms post only to this site. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)} · rattgllm</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; color: #1d2330; margin: 0; }
  main { max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 8px;
    box-shadow: 0 1px 4px rgb(0 0 0 / 0.12); }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  label { display: block; margin: 0.8rem 0 0.2rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: 0.5rem; font: inherit; border: 1px solid #b8bfcc; border-radius: 4px; }
  button { margin-top: 1.2rem; width: 100%; padding: 0.6rem; font: inherit; font-weight: 600; color: #fff;
    background: #2457c5; border: 0; border-radius: 4px; cursor: pointer; }
  .note { padding: 0.6rem 0.8rem; border-radius: 4px; background: #eef3fd; }
  .error { background: #fdeeee; color: #8a1c1c; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

export interface SignInPageOptions {
  csrf: string;
  next: string;
  username?: string;
  error?: string;
  notice?: string;
}

export function signInPage(o: SignInPageOptions): string {
  return page(
    'Sign in',
    `<h1>Sign in to the chat</h1>
${o.error ? `<p class="note error" role="alert">${e(o.error)}</p>` : ''}${o.notice ? `<p class="note">${e(o.notice)}</p>` : ''}
<p>Use your rattgllm account.</p>
<form method="post" action="/chat-sso/sign-in">
<input type="hidden" name="csrf" value="${e(o.csrf)}">
<input type="hidden" name="next" value="${e(o.next)}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required value="${e(o.username ?? '')}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function signOutPage(csrf: string): string {
  return page(
    'Sign out',
    `<h1>Sign out of the chat?</h1>
<form method="post" action="/chat-sso/sign-out">
<input type="hidden" name="csrf" value="${e(csrf)}">
<button type="submit">Sign out</button>
</form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${e(title)}</h1><p class="note error" role="alert">${e(message)}</p>`);
}
