/**
 * What a merge costs the database besides wall time, for `make profile-merge --preload`: CPU of
 * one backend (from /proc, so it counts only that connection's work), relation sizes, and shared
 * buffer hits and reads per relation from the cumulative statistics (pg_statio_user_*), over the
 * batches between a reset and a snapshot.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type pg from 'pg';

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU seconds (user + system) a process has used so far: fields 14 and 15 of /proc/<pid>/stat,
 * counted after the `(comm)` field, which may itself hold spaces. Resolution one clock tick (10 ms).
 */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the comm: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Buffer hits and reads of one relation (an index, or a table's heap) over the measured batches. */
export interface RelationIo {
  table: string;
  /** The index name, or null for the table's heap. */
  index: string | null;
  bytes: number;
  hits: number;
  /** Blocks not found in shared buffers (read from the OS page cache or the disk). */
  reads: number;
}

export interface StorageSnapshot {
  relations: RelationIo[];
  /** Total time of each apply_batch step function (track_functions = 'pl'), ms, by step name. */
  stepMs: Record<string, number>;
  /** Time spent reading blocks (track_io_timing), ms, whole database. */
  readMs: number;
}

/** Zeroes this database's cumulative statistics; the batches after it are what a snapshot shows. */
export async function resetStorageStats(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT pg_stat_reset()');
}

/**
 * Sizes and buffer statistics of every table and index of the public schema. This backend's
 * pending statistics are flushed first (they are otherwise sent at most once a second).
 */
export async function storageSnapshot(client: pg.ClientBase): Promise<StorageSnapshot> {
  await client.query('SELECT pg_stat_force_next_flush()');
  // The flush happens when the backend goes idle after that statement; a new transaction then
  // sees it (stats_fetch_consistency caches per transaction).
  await client.query('SELECT 1');
  const { rows } = await client.query<{ table: string; index: string | null; bytes: string; hits: string; reads: string }>(`
    SELECT relname AS table, NULL AS index, pg_relation_size(relid) AS bytes,
           coalesce(heap_blks_hit, 0) AS hits, coalesce(heap_blks_read, 0) AS reads
      FROM pg_statio_user_tables WHERE schemaname = 'public'
    UNION ALL
    SELECT relname, indexrelname, pg_relation_size(indexrelid), coalesce(idx_blks_hit, 0), coalesce(idx_blks_read, 0)
      FROM pg_statio_user_indexes WHERE schemaname = 'public'
     ORDER BY 1, 2 NULLS FIRST`);
  const { rows: database } = await client.query<{ read_ms: number }>('SELECT blk_read_time AS read_ms FROM pg_stat_database WHERE datname = current_database()');
  const { rows: functions } = await client.query<{ step: string; ms: number }>(
    `SELECT substr(funcname, length('apply_batch_') + 1) AS step, total_time AS ms
       FROM pg_stat_user_functions WHERE funcname LIKE 'apply\\_batch\\_%' ORDER BY funcid`,
  );
  return {
    stepMs: Object.fromEntries(functions.map((f) => [f.step, f.ms])),
    relations: rows.map((r) => ({ table: r.table, index: r.index, bytes: Number(r.bytes), hits: Number(r.hits), reads: Number(r.reads) })),
    readMs: database[0]?.read_ms ?? 0,
  };
}

const MiB = 1024 * 1024;

/** Share of block accesses served from shared buffers, as a percentage (100 when none). */
export function hitRatio(hits: number, reads: number): number {
  return hits + reads === 0 ? 100 : (100 * hits) / (hits + reads);
}

/**
 * One line per relation that was read or hit, biggest share of the reads first: size, hit ratio,
 * reads per event and the relation's share of all reads.
 */
export function formatStorage(snapshot: StorageSnapshot, events: number): string[] {
  const totalReads = snapshot.relations.reduce((sum, r) => sum + r.reads, 0);
  const lines = [`${'relation'.padEnd(44)} ${'MiB'.padStart(8)} ${'hit %'.padStart(7)} ${'reads/event'.padStart(12)} ${'of reads'.padStart(9)}`];
  const touched = snapshot.relations.filter((r) => r.hits + r.reads > 0 && (r.bytes > MiB || r.reads > 0));
  touched.sort((a, b) => b.reads - a.reads || b.bytes - a.bytes);
  for (const r of touched) {
    lines.push(
      `${(r.index ?? `${r.table} (heap)`).padEnd(44)} ${(r.bytes / MiB).toFixed(0).padStart(8)} ${hitRatio(r.hits, r.reads).toFixed(1).padStart(7)} ` +
        `${(r.reads / events).toFixed(3).padStart(12)} ${(totalReads ? (100 * r.reads) / totalReads : 0).toFixed(1).padStart(8)}%`,
    );
  }
  return lines;
}

/** Table and index sizes of the big tables, MiB: heap, all its indexes. */
export async function tableSizes(client: pg.ClientBase, tables: readonly string[]): Promise<{ table: string; heapMiB: number; indexesMiB: number }[]> {
  const { rows } = await client.query<{ table: string; heap: string; indexes: string }>(
    `SELECT t AS table, pg_relation_size(t) AS heap, pg_indexes_size(t) AS indexes FROM unnest($1::regclass[]) AS t`,
    [tables],
  );
  return rows.map((r) => ({ table: r.table, heapMiB: Number(r.heap) / MiB, indexesMiB: Number(r.indexes) / MiB }));
}
