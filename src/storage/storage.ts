/**
 * The storage: one interface, two engines behind it (sqlite/ and postgres/), chosen once,
 * here, from the configuration. Everything that differs between the engines is a member of
 * Storage; no code outside src/storage/ asks which engine runs.
 */
import type { Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import type { DatabaseConfig } from '../config.ts';
import type { CostSource, UsageEvent } from '../usage/event.ts';
import type { ReadinessProblem } from './readiness.ts';
import type { Database, Db } from './schema.ts';

export type EngineName = 'sqlite' | 'postgres';

export interface StorageOptions {
  /**
   * Bound, in ms, on the database work of one request: each PostgreSQL statement
   * (statement_timeout) and wait for a pooled connection, each SQLite wait for the write lock
   * (busy_timeout), a transaction's retries together, and the time a batch waits for its turn
   * to be written. Work that reaches it fails, is rolled back and is answered 503. Absent (the
   * CLI): statements run as long as they take.
   */
  timeoutMs?: number;
}

/** A validated batch of usage, as ingestion hands it to the storage. */
export interface Batch {
  /** Validated events, each (organization, id) once. */
  events: UsageEvent[];
  /** (organization, reservation) pairs the batch settles. */
  reservations: Array<[string, string]>;
  receivedAt: number;
}

/** A budget reservation as the budget check inserts it. */
export interface NewReservation {
  organizationId: string;
  id: string;
  apiKeyId: string | null;
  amountNano: bigint;
  createdAt: number;
  expiresAt: number;
}

/** A new cost of a stored event, as repricing writes it. */
export interface CostUpdate {
  id: string;
  costNano: bigint;
  costSource: CostSource;
}

/** What retention removed: whole months (PostgreSQL) or rows (SQLite). */
export interface RemovedEvents {
  months?: number[];
  rows?: number;
}

export interface Storage {
  /** Which engine runs: for logs, metrics and tests. Code never branches on it. */
  readonly engine: EngineName;
  readonly db: Kysely<Database>;

  /**
   * Runs `work` in a transaction, again (up to 5 times) after a deadlock, a serialization
   * failure or a busy database, but never past the bound from the first attempt. On SQLite the
   * transaction takes the write lock when it begins.
   */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Runs `work` without the bound on statements: migrations may take longer than any request. */
  withoutTimeout<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;

  /**
   * Writes a batch in one transaction, committed before this resolves: the events new to the
   * database, their increments to every rollup (usage/rollups.ts), and the reservations they
   * settle. Resolves with the events that were new. A batch still waiting for its turn when
   * the bound has passed fails unwritten as SERVICE_UNAVAILABLE.
   */
  writeBatch(batch: Batch): Promise<UsageEvent[]>;

  /**
   * The query, its rows locked against other writers until the transaction it runs in ends,
   * across every process sharing the database: the organization of a budget decision, the
   * admin keys of a deletion.
   */
  forUpdate<Q extends SelectQueryBuilder<Database, keyof Database, unknown>>(query: Q): Q;
  /** Inserts a reservation and deletes the organization's reservations that ended before `pruneBefore`. */
  insertReservation(trx: Db, reservation: NewReservation, pruneBefore: number): Promise<void>;
  /** Writes new costs of an organization's stored events, many per statement. */
  updateEventCosts(trx: Db, organizationId: string, updates: readonly CostUpdate[]): Promise<void>;
  /**
   * Holds off ingestion until `trx` ends, so that rollups rebuilt in it lose no increment
   * committed meanwhile (repricing).
   */
  holdIngestion(trx: Db): Promise<void>;

  /**
   * Makes the storage of raw events ready for the months (yyyymm) ahead: PostgreSQL creates
   * their partitions (a month without one gets it on demand too, more slowly); SQLite needs nothing.
   */
  prepareEventMonths(months: readonly number[]): Promise<void>;
  /**
   * Removes every raw event before `horizon` (the start of a UTC month), having first recorded
   * the horizon in raw_event_retention. PostgreSQL drops whole monthly partitions in one
   * transaction, one process at a time (an advisory lock: undefined when another process holds
   * it); SQLite deletes rows in batches of their own, leaving the write lock between them.
   * Rollups are left as they are: every total stays exact.
   */
  removeEventsBefore(horizon: number): Promise<RemovedEvents | undefined>;

  /** A value that differs from every earlier one once anything has been committed since (the read memo's). */
  changeMarker(): Promise<string>;
  /** Whether the database takes writes: undefined, or why not (readiness). */
  writableProblem(): Promise<ReadinessProblem | undefined>;
  /** Settings of the database server the service relies on but does not own, each as a warning. */
  settingWarnings(): Promise<string[]>;
  /** The connection pool's counts, where there is one (/metrics). */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  /** Tells `listener` of each pooled connection that failed (dropped and replaced by then); returns its removal. */
  onConnectionLost(listener: (error: Error) => void): () => void;
  /**
   * Creates the schema the service works in where the engine has schemas and it is missing, and
   * returns it: migrations keep their own table there and look nowhere else.
   */
  prepareMigrations(): Promise<string | undefined>;

  /** Starts what ingestion writes with before the first batch comes (SQLite's writer thread). */
  start(): Promise<void>;
  /** Lets the batches being written finish, then closes the database. */
  close(): Promise<void>;
}

/**
 * Opens the configured engine. Each engine's code (and its driver) is loaded here, when it is
 * used: a SQLite process never loads node-postgres, whose loading was a tenth of its start-up.
 */
export async function openStorage(config: DatabaseConfig, options: StorageOptions = {}): Promise<Storage> {
  if (config.kind === 'sqlite') return (await import('./sqlite/engine.ts')).openSqliteStorage(config, options);
  return (await import('./postgres/engine.ts')).openPostgresStorage(config, options);
}
