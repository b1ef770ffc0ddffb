import { baseClientConfig, connectClient, disconnectClient, RdKafka } from './client.js';

/**
 * Creates the stack's topics in the librdkafka mock cluster before the services start. The mock
 * cluster supports no CreateTopics request but creates a topic, with 4 partitions, when a client
 * asks for its metadata (../shared/design.md section 6); without this the processor's first
 * fetch fails with "Unknown topic or partition".
 */
export async function ensureMockTopics(bootstrapServers: string, topics: string[]): Promise<void> {
  const client = new RdKafka.Producer({ ...baseClientConfig(bootstrapServers, 'dev-topics'), 'allow.auto.create.topics': true });
  await connectClient(client);
  try {
    for (const topic of topics) {
      // The first metadata request triggers the creation; the topic shows up in a later answer.
      for (let attempt = 1; ; attempt++) {
        const partitions = await new Promise<number>((resolve, reject) => {
          client.getMetadata({ topic, timeout: 10_000 }, (error, metadata) =>
            error ? reject(new Error(`cannot create topic ${topic} in the mock cluster: ${error.message}`)) : resolve(metadata.topics.find((entry) => entry.name === topic)?.partitions.length ?? 0),
          );
        });
        if (partitions > 0) break;
        if (attempt >= 50) throw new Error(`the mock cluster did not create topic ${topic}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await disconnectClient(client);
  }
}

/**
 * The names in `topics` the cluster does not have. Asks for the metadata of every topic with
 * automatic creation off, so asking never creates one (a broker with auto.create.topics.enable,
 * and the mock cluster, create a topic a metadata request names when the client allows it).
 */
export async function missingTopics(bootstrapServers: string, topics: readonly string[], timeoutMs = 10_000): Promise<string[]> {
  const client = new RdKafka.Producer({ ...baseClientConfig(bootstrapServers, 'topic-check'), 'allow.auto.create.topics': false });
  await connectClient(client, timeoutMs);
  try {
    const metadata = await new Promise<RdKafka.Metadata>((resolve, reject) => {
      client.getMetadata({ allTopics: true, timeout: timeoutMs }, (error, data) => (error ? reject(new Error(`cannot read the cluster's topics: ${error.message}`)) : resolve(data)));
    });
    const present = new Set(metadata.topics.filter((topic) => topic.partitions.length > 0).map((topic) => topic.name));
    return topics.filter((topic) => !present.has(topic));
  } finally {
    await disconnectClient(client);
  }
}
