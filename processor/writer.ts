import { writeSync } from 'node:fs';
import pg from 'pg';
import { connectionConfig, isClientTimeout } from '../lib/db/connection.js';
import { createLogger } from '../lib/log.js';
import type { Batch } from './batch.js';
import { FENCED_SQLSTATE, FencedError } from './errors.js';
import { applyBatch, prepareBatchSession, type ApplyResult } from './sql/apply-batch.js';
import { readBatchChanges, type BatchChanges } from './sql/batch-changes.js';
import { copyToStaging } from './sql/copy-staging.js';
import { insertDeadLetters } from './sql/dead-letters.js';

const log = createLogger('writer');

export interface WriterOptions {
  databaseUrl: string;
  groupId: string;
  /**
   * Server-side limit on each statement of a write (COPY, merge); the client gives up 5 s later
   * (lib/db/connection.ts). 60 s by default: a 20k-record merge takes about 1.3 s here
   * (`make profile-merge`), so only a database that stopped answering reaches it.
   */
  statementTimeoutMs?: number;
  /** Ask apply_batch for the changed stock rows and status changes (for Kafka notifications). */
  collectNotifications: boolean;
  /**
   * Fault injection for the crash-recovery tests: SIGKILL this process at that point of the
   * `crashOnBatch`-th write. Never set in production.
   */
  crashAt?: CrashPoint;
  crashOnBatch?: number;
}

/** See {@link WriterOptions.statementTimeoutMs}. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;

export const CRASH_POINTS = ['after-copy', 'after-merge', 'after-commit'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export interface WriteResult {
  apply: ApplyResult;
  /** What changed, when notifications are collected. */
  changes: BatchChanges | undefined;
  copySeconds: number;
  mergeSeconds: number;
  totalSeconds: number;
}

/**
 * Writes batches on one dedicated connection: BEGIN, COPY into staging, dead letters, apply_batch
 * (fence + merge + offsets), COMMIT. Any error rolls back and is rethrown; a broken connection is
 * dropped and the next write opens a new one.
 */
export class BatchWriter {
  private client: pg.Client | undefined;
  private writes = 0;

  constructor(private readonly options: WriterOptions) {}

  /** One attempt at writing `batch`. Throws FencedError when a newer owner has moved past it. */
  async write(batch: Batch): Promise<WriteResult> {
    const client = await this.connection();
    const started = performance.now();
    this.writes++;
    try {
      await client.query('BEGIN');
      await copyToStaging(client, batch.events());
      this.maybeCrash('after-copy');
      const copied = performance.now();
      const apply = await applyBatch(client, { groupId: this.options.groupId, topic: batch.topic, ranges: batch.partitionRanges, gaps: batch.gaps });
      // After apply_batch, which holds the merge lock to commit: dead-letter ids in commit order.
      await insertDeadLetters(client, batch.deadLetters());
      const merged = performance.now();
      const changes = this.options.collectNotifications ? await readBatchChanges(client, apply) : undefined;
      this.maybeCrash('after-merge');
      await client.query('COMMIT');
      this.maybeCrash('after-commit');
      return {
        apply,
        changes,
        copySeconds: (copied - started) / 1000,
        mergeSeconds: (merged - copied) / 1000,
        totalSeconds: (performance.now() - started) / 1000,
      };
    } catch (error) {
      // After the client's own timeout the connection's state is unknown (the server may still
      // run the statement, the network may be gone): never reuse it, not even for a ROLLBACK,
      // which would wait out the same silence.
      if (isClientTimeout(error)) this.discard(client);
      else await this.rollback(client);
      if ((error as { code?: string }).code === FENCED_SQLSTATE) {
        throw new FencedError((error as Error).message, { cause: error });
      }
      throw error;
    }
  }

  private maybeCrash(point: CrashPoint): void {
    if (this.options.crashAt === point && this.writes === (this.options.crashOnBatch ?? 1)) {
      // Written synchronously: an asynchronous log line would die with the process.
      writeSync(2, `fault injection: SIGKILL ${point} of batch write ${this.writes}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client(
      connectionConfig(this.options.databaseUrl, { applicationName: 'processor-writer', statementTimeoutMs: this.options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS }),
    );
    client.on('error', (error) => {
      // An idle connection died (server restart): forget it; the next write reconnects.
      log.warn({ err: error }, 'database connection lost');
      if (this.client === client) this.client = undefined;
    });
    try {
      await client.connect();
      await prepareBatchSession(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  /** Forgets a connection without waiting on it (a FIN or a Terminate would wait out the same silence). */
  private discard(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    client.end().catch(() => undefined);
  }

  private async rollback(client: pg.Client): Promise<void> {
    try {
      await client.query('ROLLBACK');
    } catch {
      // The connection itself is gone: drop it so the next attempt reconnects.
      if (this.client === client) this.client = undefined;
      await client.end().catch(() => undefined);
    }
  }
}
