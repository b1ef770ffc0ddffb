import { describe, expect, it } from 'vitest';
import { brokerList, ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('fills the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      KAFKA_TOPIC: 'warehouse.movements', KAFKA_DLQ_TOPIC: 'warehouse.movements.dlq',
      KAFKA_NOTIFY_TOPIC: 'warehouse.stock.events', KAFKA_GROUP_ID: 'warehouse-processor',
      LOW_STOCK_THRESHOLD: 10, API_PORT: 8000, PROCESSOR_PORT: 9101,
    });
  });

  it('names every bad variable, its value and what it should be', () => {
    try {
      loadConfig({ API_PORT: '70000', BATCH_MAX_RECORDS: 'many', KAFKA_BROKERS: 'localhost' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/API_PORT="70000"/);
      expect(message).toMatch(/BATCH_MAX_RECORDS="many"/);
      expect(message).toMatch(/KAFKA_BROKERS="localhost": a comma-separated host:port list, or "mock"/);
    }
  });

  it('never shows a secret: a URL\'s password, a token, a password', () => {
    try {
      loadConfig({ DATABASE_URL: 'mysql://admin:hunter2-secret@db:3306/x', API_WRITE_TOKEN: 'short-secret', PROCESSOR_DATABASE_PASSWORD: 'secret' });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('DATABASE_URL="mysql://admin:***@db:3306/x"');
      expect(message).toContain('API_WRITE_TOKEN="***": at least 16 characters');
      expect(message).toContain('PROCESSOR_DATABASE_PASSWORD="***": at least 8 characters');
      expect(message).not.toContain('secret');
    }
  });

  it('refuses a LOG_LEVEL pino does not know, naming the variable', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL="loud"/);
    expect(loadConfig({ LOG_LEVEL: 'silent' }).LOG_LEVEL).toBe('silent');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ LOW_STOCK_THRESHOLD: '' }).LOW_STOCK_THRESHOLD).toBe(10);
  });

  it('splits broker lists and recognises mock', () => {
    expect(brokerList('a:1,b:2')).toEqual(['a:1', 'b:2']);
    expect(brokerList('mock')).toBeUndefined();
  });
});
