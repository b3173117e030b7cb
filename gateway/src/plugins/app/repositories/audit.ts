import type { Knex } from '@rattgllm/core';

export interface AuditEntry {
  actor?: { id: string; username: string } | null;
  action: string;
  targetType?: string;
  targetId?: string;
  ip?: string;
  details?: Record<string, unknown>;
}

/** Append-only record of who signed in and who created or deleted users, keys and documents. */
export function auditRepository(db: Knex) {
  return {
    async record(entry: AuditEntry): Promise<void> {
      await db('audit_log').insert({
        actor_id: entry.actor?.id ?? null,
        actor_name: entry.actor?.username ?? null,
        action: entry.action,
        target_type: entry.targetType ?? null,
        target_id: entry.targetId ?? null,
        ip: entry.ip ?? null,
        details: JSON.stringify(entry.details ?? {}),
      });
    },
    list(limit = 100) {
      return db('audit_log').orderBy('id', 'desc').limit(limit);
    },
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;
