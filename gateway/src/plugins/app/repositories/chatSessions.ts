import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from '@rattgllm/core';
import type { UserRow } from './users.js';

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** Sessions of the chat site's sign-in: the cookie holds the token, the table its hash. */
export function chatSessionsRepository(db: Knex) {
  return {
    /** A new session for `userId`; returns the token for the cookie (never stored). */
    async create(userId: string, seconds: number): Promise<string> {
      const token = randomBytes(32).toString('base64url');
      await db('chat_sessions').insert({
        token_hash: hashOf(token),
        user_id: userId,
        expires_at: new Date(Date.now() + seconds * 1000),
      });
      // Expired rows of anyone go on the way; no timer needed for a team-sized table.
      await db('chat_sessions').where('expires_at', '<', new Date()).delete();
      return token;
    },

    /** The session's user, if the session exists and has not expired (the user may be disabled). */
    async userOf(token: string): Promise<UserRow | undefined> {
      const row = (await db('chat_sessions as s')
        .join('users as u', 'u.id', 's.user_id')
        .where('s.token_hash', hashOf(token))
        .andWhere('s.expires_at', '>', new Date())
        .first('u.*')) as UserRow | undefined;
      return row;
    },

    /** Marks a hand-off ticket used; false when it already was (a replay). */
    async useTicket(jti: string, expiresAt: Date): Promise<boolean> {
      await db('chat_tickets_used').where('expires_at', '<', new Date()).delete();
      const rows = (await db('chat_tickets_used')
        .insert({ jti, expires_at: expiresAt })
        .onConflict('jti')
        .ignore()
        .returning('jti')) as unknown[];
      return rows.length === 1;
    },

    async end(token: string): Promise<void> {
      await db('chat_sessions').where('token_hash', hashOf(token)).delete();
    },
  };
}

export type ChatSessionsRepository = ReturnType<typeof chatSessionsRepository>;
