import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';

/** Cookies are only for the chat site's sign-in (routes/chat-sso); the API uses bearer tokens. */
export default fp(
  async (fastify) => {
    await fastify.register(cookie);
  },
  { name: 'cookie' },
);
