/**
 * One sign-in for the chat site (trusted-header SSO). Caddy asks `GET /chat-sso/verify` before
 * every request to Open WebUI (`forward_auth`); with a valid session it answers 204 and the
 * person's e-mail, name, groups and role, which Caddy copies onto the request and Open WebUI takes
 * as its WEBUI_AUTH_TRUSTED_*_HEADER values. Without one, a page load is sent to the sign-in page
 * and anything else gets a 401. The session is checked against the user row every time, so a
 * disabled or deleted user loses the chat at the next request.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import formbody from '@fastify/formbody';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { tooManyAttempts } from '../../plugins/app/sign-in.js';
import { messagePage, PAGE_CSP, signInPage, signOutPage } from './pages.js';
import handoff from './handoff.js';
import cookiePlugin from '../../plugins/external/cookie.js';
import {
  CSRF_COOKIE,
  isServiceOnly,
  SESSION_COOKIE,
  SESSION_COOKIE_OPTIONS,
  TRUSTED_HEADERS,
} from './session.js';

const CSRF_SECONDS = 3600;

const SignInForm = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 128 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  csrf: Type.String({ maxLength: 200 }),
  next: Type.Optional(Type.String({ maxLength: 2000 })),
});
const SignOutForm = Type.Object({ csrf: Type.String({ maxLength: 200 }) });
const NextQuery = Type.Object({
  next: Type.Optional(Type.String({ maxLength: 2000 })),
  signed_out: Type.Optional(Type.String({ maxLength: 10 })),
});

/** Only a path on this site: never `//evil.example` or `/\evil.example` (an open redirect). */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next.startsWith('/chat-sso/') ? '/' : next;
}

function sameString(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  // Cookies only here (the API uses bearer tokens): elsewhere no request pays for their hooks.
  await fastify.register(cookiePlugin);
  await fastify.register(formbody, { bodyLimit: 16 * 1024 });
  await fastify.register(handoff);
  const { chatSessions, audit } = fastify.repos;
  const { signIn } = fastify;
  const cookieBase = SESSION_COOKIE_OPTIONS;

  const html = (reply: FastifyReply, status: number, body: string) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', PAGE_CSP)
      .send(body);

  function newCsrf(reply: FastifyReply): string {
    const csrf = randomBytes(24).toString('base64url');
    reply.setCookie(CSRF_COOKIE, csrf, { ...cookieBase, sameSite: 'strict', maxAge: CSRF_SECONDS });
    return csrf;
  }

  /**
   * A form post must come from this site: the browser's Origin (and Fetch-Metadata) must name it,
   * and the form's token must equal the cookie only this site could set (double submit).
   */
  function fromThisSite(request: FastifyRequest, csrf: string): boolean {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `${request.protocol}://${request.host}`) return false;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return false;
    return sameString(csrf, request.cookies[CSRF_COOKIE]);
  }

  async function endSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await chatSessions.end(token);
    reply.clearCookie(SESSION_COOKIE, cookieBase);
  }

  fastify.get('/chat-sso/verify', { schema: { hide: true } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const token = request.cookies[SESSION_COOKIE];
    const user = token ? await chatSessions.userOf(token) : undefined;
    if (user && !user.disabled && !isServiceOnly(user) && user.email) {
      return (
        reply
          .code(204)
          // Sent even when empty: Caddy 2.6 would put its placeholder text in a missing one.
          // (Open WebUI leaves group memberships alone on an empty list.)
          .header(TRUSTED_HEADERS.groups, user.groups.join(','))
          .header(TRUSTED_HEADERS.email, user.email.toLowerCase())
          // Open WebUI URL-decodes the name, so any name survives the header.
          .header(TRUSTED_HEADERS.name, encodeURIComponent(user.username))
          .header(TRUSTED_HEADERS.role, user.roles.includes('admin') ? 'admin' : 'user')
          .send()
      );
    }
    if (token) await endSession(request, reply);
    const original = request.headers['x-forwarded-uri'];
    const method = request.headers['x-forwarded-method'] ?? 'GET';
    const page =
      (method === 'GET' || method === 'HEAD') &&
      (request.headers['sec-fetch-mode'] === 'navigate' || /text\/html/.test(request.headers.accept ?? ''));
    if (user?.disabled === false && !user.email)
      return page
        ? html(
            reply,
            403,
            messagePage(
              'No e-mail address',
              'Your rattgllm account has no e-mail address; ask an admin to add one, then sign in again.',
            ),
          )
        : reply.code(403).send({
            statusCode: 403,
            error: 'Forbidden',
            code: 'NO_EMAIL',
            message: 'This account has no e-mail address; the chat needs one',
          });
    if (page) {
      const next = typeof original === 'string' ? safeNext(original) : '/';
      return reply.redirect(
        `/chat-sso/sign-in${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`,
        302,
      );
    }
    return reply.code(401).send({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'CHAT_SIGN_IN_REQUIRED',
      message: 'Sign in to the chat first (open the chat site in a browser)',
    });
  });

  fastify.get(
    '/chat-sso/sign-in',
    { schema: { hide: true, querystring: NextQuery } },
    async (request, reply) =>
      html(
        reply,
        200,
        signInPage({
          csrf: newCsrf(reply),
          next: safeNext(request.query.next),
          ...(request.query.signed_out ? { notice: 'You are signed out.' } : {}),
        }),
      ),
  );

  fastify.post(
    '/chat-sso/sign-in',
    {
      config: { rateLimit: signIn.perIp },
      schema: { hide: true, body: SignInForm },
    },
    async (request, reply) => {
      const { username, password, csrf } = request.body;
      const next = safeNext(request.body.next);
      const again = (status: number, error: string) =>
        html(reply, status, signInPage({ csrf: newCsrf(reply), next, username, error }));
      if (!fromThisSite(request, csrf))
        return again(403, 'This form was not sent from this page (or it expired); please sign in again.');
      const seconds = await signIn.limitedFor(request);
      if (seconds !== undefined) {
        reply.header('retry-after', seconds);
        return again(429, tooManyAttempts(seconds));
      }
      const user = await signIn.check(
        request,
        { username, password },
        { failedAction: 'auth.chat_login_failed', accept: (u) => !isServiceOnly(u) },
      );
      if (!user) return again(401, 'Wrong user name or password.');
      if (!user.email)
        return again(403, 'Your account has no e-mail address; ask an admin to add one (the chat needs it).');
      const token = await chatSessions.create(user.id, fastify.config.JWT_EXPIRES_IN);
      await audit.record({ actor: user, action: 'auth.chat_login', ip: request.ip });
      reply.clearCookie(CSRF_COOKIE, cookieBase);
      // Lax: the cookie comes along when a link from another site (the widget) opens the chat.
      reply.setCookie(SESSION_COOKIE, token, {
        ...cookieBase,
        sameSite: 'lax',
        maxAge: fastify.config.JWT_EXPIRES_IN,
      });
      return reply.redirect(next, 303);
    },
  );

  // Open WebUI's sign-out sends the browser here (WEBUI_AUTH_SIGNOUT_REDIRECT_URL). A navigation
  // from this very site ends the session; from anywhere else it only asks (a link on another site
  // must not be able to sign people out).
  fastify.get('/chat-sso/sign-out', { schema: { hide: true } }, async (request, reply) => {
    if (request.headers['sec-fetch-site'] === 'same-origin') {
      await endSession(request, reply);
      return reply.redirect('/chat-sso/sign-in?signed_out=1', 303);
    }
    return html(reply, 200, signOutPage(newCsrf(reply)));
  });

  fastify.post(
    '/chat-sso/sign-out',
    { schema: { hide: true, body: SignOutForm } },
    async (request, reply) => {
      if (!fromThisSite(request, request.body.csrf)) return html(reply, 403, signOutPage(newCsrf(reply)));
      await endSession(request, reply);
      reply.clearCookie(CSRF_COOKIE, cookieBase);
      return reply.redirect('/chat-sso/sign-in?signed_out=1', 303);
    },
  );
};

export default routes;
