/**
 * The ingestor's liveness as the rest of the system sees it: each running ingestor upserts a row
 * of `ingestor_heartbeats` every INGESTOR_HEARTBEAT_SECONDS (ingestor/src/health.ts), and the
 * gateway's /ready calls `readIngestorHealth` to report it. Ages are computed by Postgres (now()
 * minus beat_at), so the clocks of the containers do not matter.
 */
import type { Knex } from './db/knex.js';

export const INGESTOR_HEARTBEAT_SECONDS = 10;

export type HealthState = 'ok' | 'degraded' | 'down';

export interface HealthCheck {
  status: HealthState;
  /** Says what is wrong (or what is fine); never a password, never a stack. */
  reason: string;
}

/** What an ingestor reports about itself (GET /health of the ingestor, and its heartbeat row). */
export interface IngestorReport {
  status: HealthState;
  reason: string;
  checks: Record<string, HealthCheck>;
  drop?: { waiting: number; running: number; held: number; paused: boolean; overflowed: boolean };
}

export interface IngestorInstance {
  instanceId: string;
  hostname: string;
  pid: number;
  startedAt: Date;
  beatAt: Date;
  /** Seconds since its last beat. */
  ageSeconds: number;
  /** Its own report; `down` when its beat is too old (killed, host lost, frozen). */
  status: HealthState;
  reason: string;
  detail: IngestorReport;
}

export interface IngestorHealth extends HealthCheck {
  instances: IngestorInstance[];
}

export async function writeIngestorHeartbeat(
  db: Knex,
  beat: { instanceId: string; hostname: string; pid: number; startedAt: Date; report: IngestorReport },
): Promise<void> {
  await db('ingestor_heartbeats')
    .insert({
      instance_id: beat.instanceId,
      hostname: beat.hostname,
      pid: beat.pid,
      started_at: beat.startedAt,
      beat_at: db.fn.now(),
      status: beat.report.status,
      detail: JSON.stringify(beat.report),
    })
    .onConflict('instance_id')
    .merge(['beat_at', 'status', 'detail']);
}

export async function removeIngestorHeartbeat(db: Knex, instanceId: string): Promise<void> {
  await db('ingestor_heartbeats').where({ instance_id: instanceId }).delete();
}

/** Rows of ingestors that stopped beating an hour ago (killed and not restarted) are forgotten. */
export async function pruneIngestorHeartbeats(db: Knex): Promise<void> {
  await db('ingestor_heartbeats').where('beat_at', '<', db.raw(`now() - interval '1 hour'`)).delete();
}

/**
 * The ingestors' state for /ready: `ok` when at least one ingestor beats and says ok, `degraded`
 * when the live ones report a problem (Postgres or storage unreachable, drop changes kept for
 * replay) or some replica stopped beating, `down` when none beats (documents are not processed).
 */
export async function readIngestorHealth(
  db: Knex,
  options: { staleAfterSeconds?: number } = {},
): Promise<IngestorHealth> {
  const stale = options.staleAfterSeconds ?? 3 * INGESTOR_HEARTBEAT_SECONDS;
  const rows = await db('ingestor_heartbeats')
    .select('*', db.raw('extract(epoch from (now() - beat_at))::float8 as age_seconds'))
    .orderBy('started_at');
  const instances: IngestorInstance[] = rows.map((r) => {
    const age = Number(r.age_seconds);
    const detail = r.detail as IngestorReport;
    const dead = age > stale;
    return {
      instanceId: r.instance_id,
      hostname: r.hostname,
      pid: r.pid,
      startedAt: r.started_at,
      beatAt: r.beat_at,
      ageSeconds: age,
      status: dead ? 'down' : (r.status as HealthState),
      reason: dead ? `no heartbeat for ${Math.round(age)} s` : detail.reason,
      detail,
    };
  });
  const live = instances.filter((i) => i.status !== 'down');
  if (!instances.length) return { status: 'down', reason: 'no ingestor is running', instances };
  if (!live.length) {
    const newest = Math.round(Math.min(...instances.map((i) => i.ageSeconds)));
    return { status: 'down', reason: `no ingestor heartbeat for ${newest} s`, instances };
  }
  const troubled = live.filter((i) => i.status !== 'ok');
  if (troubled.length) return { status: 'degraded', reason: troubled[0]!.reason, instances };
  if (live.length < instances.length)
    return {
      status: 'degraded',
      reason: `${live.length} of ${instances.length} ingestors beating`,
      instances,
    };
  return { status: 'ok', reason: `${live.length} ingestor${live.length > 1 ? 's' : ''} running`, instances };
}
