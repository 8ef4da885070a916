import { createLogger, PinoNestLogger, redactUrl } from './logger';

describe('redactUrl', () => {
  it('replaces the value of every secret query parameter and keeps the rest as it was', () => {
    expect(redactUrl('/api/v1/me')).toBe('/api/v1/me');
    expect(redactUrl('/api/v1/me?access_token=ppt_abc&limit=5')).toBe('/api/v1/me?access_token=[redacted]&limit=5');
    expect(redactUrl('/x?a=%41&Token=s&PASSWORD=p&access%5Ftoken=s&token[]=s&secret')).toBe(
      '/x?a=%41&Token=[redacted]&PASSWORD=[redacted]&access%5Ftoken=[redacted]&token[]=[redacted]&secret=[redacted]',
    );
    expect(redactUrl('/x?%E0%A4%A=1&tokens=2')).toBe('/x?%E0%A4%A=1&tokens=2');
  });
});

describe('createLogger', () => {
  it('logs a request without its token, in the URL, the query, the header or a body field', () => {
    const lines: string[] = [];
    const logger = createLogger('test', 'info', { write: (line: string) => lines.push(line) });
    logger.info(
      {
        req: { url: '/me?access_token=s3cret-1&b=2', query: { access_token: 's3cret-2', b: '2' }, headers: { authorization: 'Bearer s3cret-3' } },
        body: { token: 's3cret-4' },
      },
      'request completed',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/s3cret/);
    expect(JSON.parse(lines[0])).toMatchObject({ req: { url: '/me?access_token=[redacted]&b=2', query: { b: '2' } } });
  });
});

describe('PinoNestLogger', () => {
  it("writes Nest's start-up chatter (routes and patterns mapped, modules initialised) at debug only", () => {
    const at = (level: string) => {
      const lines: string[] = [];
      const nest = new PinoNestLogger(createLogger('test', level, { write: (line: string) => lines.push(line) }));
      nest.log('Mapped {/api/v1/me, GET} route', 'RouterExplorer');
      nest.log('AppModule dependencies initialized', 'InstanceLoader');
      nest.log('NatsStatus: type: "reconnect"', 'ClientNats');
      return lines.map((l) => JSON.parse(l).msg);
    };
    expect(at('info')).toEqual(['NatsStatus: type: "reconnect"']);
    expect(at('debug')).toHaveLength(3);
  });
});
