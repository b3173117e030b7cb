/**
 * "Open the chat" from the widget without a second sign-in. The widget, signed in on the site,
 * asks for a ticket (`POST /chat-sso/ticket`, a 60-second token for nothing but this) and posts it
 * in a form to the chat host (`POST /chat-sso/handoff`), which turns it into a chat session.
 * The hand-off only accepts a post whose Origin is the site itself (PUBLIC_API_URL's origin) or
 * the chat host: another site cannot sign a visitor in as someone else (login CSRF). Each ticket
 * works once.
 */
import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ForbiddenError } from '@rattgllm/core';
import type { FastifyJWT } from '@fastify/jwt';
import { errorResponses } from '../../schemas/common.js';
import { messagePage, PAGE_CSP } from './pages.js';
import { isServiceOnly, SESSION_COOKIE, SESSION_COOKIE_OPTIONS } from './session.js';

export const TICKET_SCOPE = 'chat-ticket';
export const TICKET_SECONDS = 60;

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { chatSessions, users, audit } = fastify.repos;
  const siteOrigin = fastify.config.PUBLIC_API_URL ? new URL(fastify.config.PUBLIC_API_URL).origin : null;

  fastify.post(
    '/chat-sso/ticket',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'A one-minute ticket that signs the caller in on the chat site (the widget uses it)',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ ticket: Type.String(), expires_in: Type.Integer() }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      const me = request.auth!;
      if (isServiceOnly(me)) throw new ForbiddenError('A service account cannot use the chat', 'FORBIDDEN');
      if (!me.email)
        throw new ForbiddenError('This account has no e-mail address; the chat needs one', 'NO_EMAIL');
      const ticket = fastify.jwt.sign(
        { sub: me.id, username: me.username, roles: [], scope: TICKET_SCOPE },
        { expiresIn: TICKET_SECONDS, jti: randomUUID() },
      );
      return { ticket, expires_in: TICKET_SECONDS };
    },
  );

  fastify.post(
    '/chat-sso/handoff',
    { schema: { hide: true, body: Type.Object({ ticket: Type.String({ maxLength: 4000 }) }) } },
    async (request, reply) => {
      const page = (status: number, title: string, message: string) =>
        reply
          .code(status)
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('content-security-policy', PAGE_CSP)
          .send(messagePage(title, message));
      const origin = request.headers.origin;
      const allowed = [siteOrigin, `${request.protocol}://${request.host}`];
      if (!origin || !allowed.includes(origin))
        return page(
          403,
          'Not from the site',
          'This sign-in did not come from the rattgllm site. Sign in below.',
        );
      let claims: FastifyJWT['user'];
      try {
        claims = fastify.jwt.verify<FastifyJWT['user']>(request.body.ticket);
      } catch {
        return reply.redirect('/chat-sso/sign-in', 303);
      }
      if (claims.scope !== TICKET_SCOPE) return reply.redirect('/chat-sso/sign-in', 303);
      // Once only: a ticket seen again (copied, replayed) opens nothing.
      const jti = (claims as { jti?: unknown }).jti;
      if (typeof jti !== 'string' || !(await chatSessions.useTicket(jti, new Date(claims.exp * 1000))))
        return reply.redirect('/chat-sso/sign-in', 303);
      // The person is checked now, not when the ticket was made.
      const user = await users.findById(claims.sub);
      if (!user || user.disabled || isServiceOnly(user) || !user.email)
        return reply.redirect('/chat-sso/sign-in', 303);
      const token = await chatSessions.create(user.id, fastify.config.JWT_EXPIRES_IN);
      await audit.record({
        actor: user,
        action: 'auth.chat_login',
        ip: request.ip,
        details: { via: 'handoff' },
      });
      reply.setCookie(SESSION_COOKIE, token, {
        ...SESSION_COOKIE_OPTIONS,
        sameSite: 'lax',
        maxAge: fastify.config.JWT_EXPIRES_IN,
      });
      return reply.redirect('/', 303);
    },
  );
};

export default routes;
