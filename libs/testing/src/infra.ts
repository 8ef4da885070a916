import { findBinary, startFerretDb, startMongod, startNatsServer, type LocalServer } from './local-servers';

export interface TestInfrastructure {
  mongoUrl: string;
  natsUrl: string;
  /** how each endpoint was obtained, for the test log */
  description: string;
  stop(): Promise<void>;
}

export const HOW_TO_GET_INFRA = `
The tests need a MongoDB-wire server and a NATS server with JetStream. Give them one of:
  - MONGO_URL=mongodb://host:port and NATS_URL=nats://host:port (e.g. an existing server);
  - local binaries: \`ferretdb\` (npm run infra:ferretdb builds FerretDB v1 into .tools/bin) or \`mongod\`,
    and \`nats-server\` (https://github.com/nats-io/nats-server/releases), on PATH or in .tools/bin;
  - a running Docker engine (testcontainers starts mongo:7 and nats:2.10 -js).`;

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function containerMongo(): Promise<LocalServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const c = await new GenericContainer('mongo:7').withExposedPorts(27017).withWaitStrategy(Wait.forListeningPorts()).start();
  return { url: `mongodb://${c.getHost()}:${c.getMappedPort(27017)}/`, kind: 'mongo container', stop: async () => void (await c.stop()) };
}

async function containerNats(): Promise<LocalServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const c = await new GenericContainer('nats:2.10').withCommand(['-js']).withExposedPorts(4222).withWaitStrategy(Wait.forListeningPorts()).start();
  return { url: `nats://${c.getHost()}:${c.getMappedPort(4222)}`, kind: 'nats container', stop: async () => void (await c.stop()) };
}

/**
 * One MongoDB-wire endpoint and one NATS JetStream endpoint for the whole test run: explicit MONGO_URL /
 * NATS_URL first, then local binaries on free loopback ports with temporary data, then testcontainers when
 * Docker answers; otherwise an error that says how to get one. Never a silent skip.
 */
export async function provideTestInfrastructure(env: NodeJS.ProcessEnv = process.env): Promise<TestInfrastructure> {
  const started: LocalServer[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  const describe: string[] = [];
  try {
    let mongoUrl = env.MONGO_URL;
    if (mongoUrl) describe.push(`MongoDB from MONGO_URL`);
    else {
      const ferret = findBinary('ferretdb', [env.FERRETDB_BIN]);
      const mongod = ferret ? undefined : findBinary('mongod');
      let server: LocalServer | undefined;
      if (ferret) server = await startFerretDb(ferret);
      else if (mongod) server = await startMongod(mongod);
      else if (await dockerAnswers()) server = await containerMongo();
      if (!server) throw new Error(`No MongoDB-wire server found.${HOW_TO_GET_INFRA}`);
      started.push(server);
      mongoUrl = server.url;
      describe.push(`${server.kind} at ${server.url}`);
    }

    let natsUrl = env.NATS_URL;
    if (natsUrl) describe.push(`NATS from NATS_URL`);
    else {
      const bin = findBinary('nats-server', [env.NATS_SERVER_BIN]);
      let server: LocalServer | undefined;
      if (bin) server = await startNatsServer(bin);
      else if (await dockerAnswers()) server = await containerNats();
      if (!server) throw new Error(`No NATS server found.${HOW_TO_GET_INFRA}`);
      started.push(server);
      natsUrl = server.url;
      describe.push(`${server.kind} at ${server.url}`);
    }
    return { mongoUrl, natsUrl, description: describe.join('; '), stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
