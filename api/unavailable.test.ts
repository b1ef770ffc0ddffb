import { describe, expect, it } from 'vitest';
import { unavailability } from './unavailable.js';

/** The error shapes seen from Prisma 7 + @prisma/adapter-pg and node-postgres (captured by hand against PostgreSQL 18). */
const prismaError = (cause: Record<string, unknown>) => Object.assign(new Error('Invalid `prisma.$queryRaw()` invocation'), { code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause } } });

describe('unavailability', () => {
  it('reads a statement timeout from the adapter error Prisma wraps', () => {
    expect(unavailability(prismaError({ originalCode: '57014', kind: 'postgres', code: '57014', message: 'canceling statement due to statement timeout' }))).toBe('statement_timeout');
  });

  it('treats connection failures and shutdowns as unavailable', () => {
    expect(unavailability(prismaError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 1 }))).toBe('connection');
    expect(unavailability(prismaError({ kind: 'ConnectionClosed' }))).toBe('connection');
    expect(unavailability(prismaError({ kind: 'TooManyConnections', cause: 'too many' }))).toBe('connection');
    expect(unavailability(prismaError({ originalCode: '57P01', kind: 'postgres', code: '57P01' }))).toBe('connection');
    expect(unavailability(prismaError({ originalCode: '08006', kind: 'postgres', code: '08006' }))).toBe('connection');
    expect(unavailability(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe('connection');
    expect(unavailability(new Error('Connection terminated unexpectedly'))).toBe('connection');
    expect(unavailability(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' }))).toBe('connection');
  });

  it('treats node-postgres client-side timeouts as no answer', () => {
    expect(unavailability(new Error('Query read timeout'))).toBe('no_answer');
    expect(unavailability(new Error('timeout exceeded when trying to connect'))).toBe('no_answer');
    expect(unavailability(new Error('Connection terminated due to connection timeout'))).toBe('no_answer');
    expect(unavailability(new Error('wrapped', { cause: new Error('Query read timeout') }))).toBe('no_answer');
  });

  it('leaves defects alone: they answer 500', () => {
    expect(unavailability(prismaError({ originalCode: '42P01', kind: 'TableDoesNotExist', table: 'x' }))).toBeUndefined();
    expect(unavailability(prismaError({ originalCode: '42501', kind: 'postgres', code: '42501' }))).toBeUndefined();
    expect(unavailability(prismaError({ kind: 'DatabaseDoesNotExist', db: 'x' }))).toBeUndefined();
    expect(unavailability(new TypeError('x is undefined'))).toBeUndefined();
    expect(unavailability(undefined)).toBeUndefined();
  });
});
