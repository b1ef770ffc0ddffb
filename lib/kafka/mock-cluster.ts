import { baseClientConfig, connectClient, disconnectClient, RdKafka } from './client.js';

/**
 * The librdkafka mock cluster: a client created with `test.mock.num.brokers` starts an in-process
 * Kafka cluster on a real 127.0.0.1 port that other processes can reach while this client lives.
 * Limits (checked, ../shared/design.md section 6): topics auto-create with 4 partitions, each
 * partition keeps only the newest ~5 MB / 100k messages, data lives in memory only.
 */
export interface MockCluster {
  /** host:port of the mock broker, for `bootstrap.servers` / KAFKA_BROKERS. */
  bootstrapServers: string;
  stop(): Promise<void>;
}

export async function startMockCluster(): Promise<MockCluster> {
  // `test.mock.num.brokers` is a librdkafka test property the package's config types do not list.
  const config = {
    // Any bootstrap list works: the mock cluster replaces it.
    ...baseClientConfig('127.0.0.1:1', 'mock-cluster-owner'),
    'test.mock.num.brokers': 1,
  } as RdKafka.ProducerGlobalConfig;
  const owner = new RdKafka.Producer(config);
  const metadata = await connectClient(owner);
  const broker = metadata.brokers[0];
  if (!broker) throw new Error('the mock cluster reported no broker');
  return {
    bootstrapServers: `${broker.host}:${broker.port}`,
    stop: () => disconnectClient(owner),
  };
}
