import { connect, type NatsConnection } from 'nats';
import { eventsStreamName, evtSubject, subjectNaming } from '@app/contracts';
import { consumeEvents, type EventConsumer } from '@app/event-store';
import { connectNats, ensureStreams } from '@app/messaging';
import { testPrefix } from '@app/testing';
import { startNatsCluster, type NatsCluster } from './support/cluster';

const log = (msg: string) => process.stdout.write(`[consumer-failover] ${msg}\n`);

/**
 * The node that holds a consumer's server side is killed (SIGKILL) and started again 2 s later, as in the
 * cluster test's burst (cluster.e2e-spec.ts): the consumer must go on with the events published after the kill
 * within seconds. A pull consumer notices only through missed heartbeats; with nats.js's defaults (a pull lasts
 * 30 s, a heartbeat every 15 s, two missed) that took 30 s and more, and every read waiting for a view fed by
 * such a consumer (the gateway's read index, the people list, authorization's checks) answered 503 meanwhile.
 * docs/scaling.md "A NATS node dies".
 */
describe('consumers on a NATS cluster of three: the node holding the consumer is killed and restarted', () => {
  let cluster: NatsCluster;
  let admin: NatsConnection;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    admin = await connectNats(cluster.url, 'consumer-failover-admin');
  }, 60_000);
  afterAll(async () => {
    await admin?.close();
    await cluster?.stop();
  });

  it.each([
    ['ordered', 'another node'],
    ['durable', 'another node'],
    ['ordered', 'that node'],
  ] as const)(
    '%s, the process connected to %s: the events published after the kill are applied within 20 s',
    async (mode, where) => {
      const onHolder = where === 'that node';
      const naming = subjectNaming(`${testPrefix().slice(0, -1)}-${mode}${onHolder ? '-on' : ''}.`);
      await ensureStreams(admin, naming, { replicas: 3 });
      const stream = eventsStreamName(naming);
      const subject = naming.subject(evtSubject('identity', 'user.screen-name-changed', 1));
      const js = admin.jetstream();
      const publish = async (n: number) => (await js.publish(subject, new TextEncoder().encode(JSON.stringify({ n })), { msgID: `${mode}-${n}` })).seq;
      await publish(0);

      // the consumer on a connection to one node (first; the others only when it is on the holder, to reconnect
      // to), and its server side held by another node or by that one (tried node by node)
      let consumer: EventConsumer | undefined;
      let nc: NatsConnection | undefined;
      let holder: string | undefined;
      const tried = new Set<string>(); // a stopped ordered consumer stays on the server a while
      // nats-server places an ordered consumer on a node of the stream's three: fifteen tries miss "that node"
      // about once in 500 runs
      for (const node of Array.from({ length: 5 }, () => cluster.nodes).flat()) {
        const others = onHolder ? cluster.nodes.filter((n) => n !== node).map((n) => n.clientUrl) : [];
        nc = await connect({
          servers: [node.clientUrl, ...others],
          noRandomize: true,
          ignoreClusterUpdates: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
        });
        const jsm = await nc.jetstreamManager();
        consumer = await consumeEvents({
          name: `failover-${mode}`,
          js: nc.jetstream(),
          jsm,
          naming,
          mode,
          decode: () => false,
          publishDeadLetters: false,
          apply: () => undefined,
          logger: { warn: (o, m) => log(`warn ${m} ${JSON.stringify(o)}`), error: (o, m) => log(`error ${m} ${JSON.stringify(o)}`) },
        });
        const infos = await (await admin.jetstreamManager()).consumers.list(stream).next();
        const mine = infos.find((c) => (mode === 'durable' ? c.name === `failover-${mode}` : !c.config.durable_name && !tried.has(c.name)));
        if (mine) tried.add(mine.name);
        holder = mine?.cluster?.leader;
        if (holder && (`nats ${holder}` === node.name) === onHolder) break;
        await consumer.stop(1000);
        await nc.close();
        consumer = undefined;
      }
      if (!consumer || !nc || !holder) throw new Error(`no consumer was held by ${where} in fifteen tries`);
      const leader = (await (await admin.jetstreamManager()).streams.info(stream)).cluster?.leader;
      log(`${mode}, ${where}: connected to ${nc.getServer()}, consumer held by ${holder}, stream leader ${leader}`);
      // consuming: an event published now is applied
      const before = await publish(1);
      expect(await waitFor(() => consumer!.position() >= before, 10_000)).toBe(true);

      const victim = cluster.nodes.find((n) => n.name === `nats ${holder}`)!;
      await victim.kill9();
      const killedAt = Date.now();
      await new Promise((r) => setTimeout(r, 2000));
      await victim.restart();
      // published once the stream has a leader again (a few seconds)
      let seq: number | undefined;
      while (seq === undefined && Date.now() - killedAt < 30_000) seq = await publish(2).catch(() => undefined);
      if (seq === undefined) throw new Error('the stream took no event for 30 s after the node was killed');
      const publishedAt = Date.now();
      const applied = await waitFor(() => consumer!.position() >= seq!, 20_000);
      log(
        `${mode}, ${where}: ${victim.name} killed and restarted; event ${seq} published after ${publishedAt - killedAt} ms, ` +
          `applied ${applied ? `${Date.now() - publishedAt} ms later` : 'not within 20 s'}`,
      );
      try {
        expect(applied).toBe(true);
      } finally {
        await consumer.stop(1000);
        await nc.close();
      }
    },
    120_000,
  );
});

async function waitFor(ready: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (ready()) return true;
  return ready();
}
