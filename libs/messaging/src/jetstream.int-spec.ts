import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { requireInfraEnv } from '@app/testing';
import { connectNats, jetStreamManager } from './jetstream';

/** What the services' start-up asks of JetStream, against a real nats-server. */
describe('jetStreamManager (real NATS)', () => {
  it("sends no request of its own (nats.js's account check, $JS.API.INFO, timed out unretried while a cluster node restarted)", async () => {
    // its own inbox prefix: the account check of another test file's connection, running meanwhile, is not counted
    const inbox = `_INBOX_${randomUUID().replace(/-/g, '')}`;
    const nc = await connect({ servers: requireInfraEnv().natsUrl, name: 'jetstream-manager-test', inboxPrefix: inbox });
    const watcher = await connectNats(requireInfraEnv().natsUrl, 'jetstream-manager-watcher');
    try {
      let seen = 0;
      watcher.subscribe('$JS.API.INFO', { callback: (_err, m) => void (m.reply?.startsWith(inbox) && seen++) });
      await watcher.flush();
      await jetStreamManager(nc);
      await nc.flush();
      await watcher.flush();
      expect(seen).toBe(0);
      await nc.jetstreamManager(); // nats.js's own: the check the watcher sees (so this test can see one)
      await watcher.flush();
      expect(seen).toBe(1);
    } finally {
      await nc.close();
      await watcher.close();
    }
  });
});
