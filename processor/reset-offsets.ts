/**
 * `make reset-offsets ARGS="--partition N --to earliest|latest|OFFSET"`: moves one partition's
 * stored offset (consumer_offsets, the processors' source of truth), the deliberate operator step
 * after a partition stopped because its stored offset is past the log end (topic recreated, broker
 * data lost). Running processors notice within one statistics interval (5 s) and resume the
 * partition from there; nothing else is needed.
 *
 * `earliest` (the log start) loses nothing of the current log; `latest` (the log end) and an
 * offset past the log start skip the messages before it, which are never applied. Settings:
 * DATABASE_URL, KAFKA_BROKERS, KAFKA_TOPIC, KAFKA_GROUP_ID (or the running `make dev` stack's).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../lib/config.js';
import { redactUrl } from '../lib/db/url.js';
import { readStackEnv } from '../lib/dev/stack-env.js';
import { asError, baseClientConfig, connectClient, disconnectClient, RdKafka } from '../lib/kafka/client.js';

const USAGE = 'usage: make reset-offsets ARGS="--partition N --to earliest|latest|OFFSET [--group G] [--topic T]"';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { partition: { type: 'string' }, to: { type: 'string', default: 'earliest' }, group: { type: 'string' }, topic: { type: 'string' } },
  });
  const partition = Number(values.partition);
  if (!Number.isInteger(partition) || partition < 0) throw new Error(`--partition must be a partition number\n${USAGE}`);
  const target = values.to;
  if (target !== 'earliest' && target !== 'latest' && !/^\d+$/.test(target)) throw new Error(`--to must be earliest, latest or an offset\n${USAGE}`);
  const config = loadConfig({ ...(await readStackEnv()), ...process.env });
  const topic = values.topic ?? config.KAFKA_TOPIC;
  const group = values.group ?? config.KAFKA_GROUP_ID;

  const { lowOffset, highOffset } = await watermarks(config.KAFKA_BROKERS, topic, partition);
  const offset = target === 'earliest' ? lowOffset : target === 'latest' ? highOffset : Number(target);
  if (offset > highOffset) throw new Error(`offset ${offset} is past the log end ${highOffset} of ${topic} partition ${partition}`);

  const client = new pg.Client({ connectionString: config.DATABASE_URL, application_name: 'reset-offsets' });
  await client.connect();
  try {
    const { rows } = await client.query<{ before: string | null }>(
      `WITH before AS (SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND "partition" = $3)
       INSERT INTO consumer_offsets (group_id, topic, "partition", next_offset) VALUES ($1, $2, $3, $4)
       ON CONFLICT (group_id, topic, "partition") DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
       RETURNING (SELECT next_offset FROM before) AS before`,
      [group, topic, partition, offset],
    );
    const before = rows[0]?.before ?? 'none';
    console.log(
      `${redactUrl(config.DATABASE_URL)}: group ${group}, ${topic} partition ${partition}: stored offset ${before} -> ${offset} ` +
        `(${target}; the log holds ${lowOffset}..${highOffset - 1})`,
    );
    if (offset > lowOffset) console.log(`offsets ${lowOffset}..${offset - 1} of the current log will not be applied`);
  } finally {
    await client.end();
  }
}

async function watermarks(brokers: string, topic: string, partition: number): Promise<RdKafka.WatermarkOffsets> {
  const client = new RdKafka.Producer({ ...baseClientConfig(brokers, 'reset-offsets'), 'allow.auto.create.topics': false });
  await connectClient(client);
  try {
    return await new Promise((resolve, reject) => {
      client.queryWatermarkOffsets(topic, partition, 10_000, (error, offsets) => (error ? reject(asError(error)) : resolve(offsets)));
    });
  } finally {
    await disconnectClient(client);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
