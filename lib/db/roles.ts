import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectionConfig } from './connection.js';
import { withCredentials } from './url.js';

/**
 * The services' database roles (prisma/migrations/…_roles): created NOLOGIN by the migration,
 * given LOGIN and a password by the migration job when it has one for them.
 */
export const DATABASE_ROLES = { processor: 'wsm_processor', api: 'wsm_api' } as const;
export type ServiceRole = keyof typeof DATABASE_ROLES;

/** PostgreSQL's default SCRAM iteration count (scram_iterations, PostgreSQL 16+). */
const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 and 7677; the format of
 * pg_authid.rolpassword), computed here so the password itself never reaches the server, where a
 * statement log (log_statement = ddl) would keep it. SASLprep is not applied: passwords outside
 * printable ASCII may then not match what libpq clients send.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Gives each role with a password LOGIN and that password (the others are left as they are).
 * Roles belong to the server, so this holds for every database on it. Returns the roles changed.
 */
export async function setRolePasswords(databaseUrl: string, passwords: Partial<Record<ServiceRole, string>>): Promise<string[]> {
  const changed: string[] = [];
  const client = new pg.Client(connectionConfig(databaseUrl, { applicationName: 'migrate-roles', statementTimeoutMs: 30_000 }));
  await client.connect();
  try {
    for (const [service, password] of Object.entries(passwords) as [ServiceRole, string | undefined][]) {
      if (!password) continue;
      const role = DATABASE_ROLES[service];
      // Utility statements take no parameters: quote the (generated, base64) verifier as a literal.
      await client.query(`ALTER ROLE ${client.escapeIdentifier(role)} WITH LOGIN PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
      changed.push(role);
    }
  } finally {
    await client.end();
  }
  return changed;
}

/** `url` with its user and password replaced by the role's. */
export function urlForRole(url: string, service: ServiceRole, password: string): string {
  return withCredentials(url, DATABASE_ROLES[service], password);
}
