import querystring from 'node:querystring';
import { BadRequestException, RequestMethod, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ErrorCode } from '@app/contracts';
import { createLogger, createProcessMetrics, PinoNestLogger, redactUrl, serveMetrics, type ServiceConfig } from '@app/platform';
import { GatewayModule } from './gateway.module';
import { openRequestContext, type GatewayRequest } from './common/request-context';
import { BODY_LIMIT_BYTES, edgeCheck, parseJsonBody } from './common/json-body';
import { CONSISTENCY_HEADER, tokensOfHeader } from './common/consistency';
import { completeOpenApi } from './common/openapi';
import { ProblemFilter } from './common/problem.filter';
import { observeHttpRequests } from './common/http-metrics';
import { serveConsole } from './console/console-files';

export const API_PREFIX = 'api/v1';

/** Builds the HTTP gateway on Fastify (not listening yet). docs/http.md says what its edge accepts. */
export async function createGatewayApp(config: ServiceConfig<'gateway'>, logger: Logger = createLogger('gateway', config.LOG_LEVEL)) {
  const begin = beginRequest();
  const adapter = new FastifyAdapter({
    // request.ip: X-Forwarded-For only through the proxies TRUST_PROXY trusts (false, a hop count or addresses)
    trustProxy: trustedProxies(config.TRUST_PROXY),
    bodyLimit: BODY_LIMIT_BYTES,
    // no Nest middleware: the edge below is Fastify hooks
    skipMiddie: true,
    routerOptions: {
      // `a[b][c]=1` stays the key "a[b][c]": no nested objects (and no prototypes) from a query string
      querystringParser: (query: string) => querystring.parse(query),
      // as Express routed: `/API/V1/me/` is `/api/v1/me` (parameters keep their case), and a path segment has no length limit of its own
      caseSensitive: false,
      ignoreTrailingSlash: true,
      maxParamLength: 8192,
    },
    // a path Fastify cannot route (a bad percent-encoding): a problem+json 400 with a request id too
    frameworkErrors: (_err: Error, request: FastifyRequest, reply: FastifyReply) => {
      begin(request, reply);
      new ProblemFilter(logger).send(new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message: 'the request URL is not valid' }), request, reply);
    },
  });
  const metrics = createProcessMetrics('gateway');
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.register(config, logger, metrics), adapter, {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  readRequests(adapter.getInstance(), begin, accessLog(logger));
  await serveConsole(adapter.getInstance());
  observeHttpRequests(adapter.getInstance(), metrics.registry);
  // `/metrics` on its own port (METRICS_PORT, 0: none), never on the public one; it closes with the app
  if (config.METRICS_PORT > 0) {
    const server = await serveMetrics(config.METRICS_PORT, () => metrics.registry.metrics()).catch(async (err: unknown) => {
      await app.close();
      throw err;
    });
    adapter.getInstance().addHook('onClose', () => server.close());
  }
  return configureGateway(app);
}

/**
 * Fastify's `trustProxy` for TRUST_PROXY: a list of addresses as it is; a hop count as a function of the hop,
 * trusting that many proxies next to the gateway, as Express and Fastify before 5.12 read a number (Fastify
 * 5.12 makes a number trust no proxy at all).
 */
export const trustedProxies = (value: false | number | string[]) => (typeof value === 'number' ? (_address: string, hop: number) => hop < value : value);

/** A request's start: its context and id (X-Request-Id on the answer). */
function beginRequest() {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const ctx = ((request as GatewayRequest).ctx = openRequestContext(request));
    reply.header('X-Request-Id', ctx.requestId);
  };
}

/** Probes (every few seconds from the kubelet) are not logged; metrics are on their own port. */
const UNLOGGED = /^\/health(\/ready|\/serving)?$/;

/**
 * The access log: one pino line per answered request, from Fastify's `onResponse` hook, with a few fields
 * (request id, method, URL with the values of its secret query parameters redacted, status, ms). No child logger
 * per request and no serialisation of the request (its headers, the parsed query): pino-http did both for every
 * request, even with the line turned off (docs/operations.md "Access logs and their cost"). The line's fields
 * are fixed and the URL is redacted here (`redactUrl`), so it is written by a logger without the field
 * redaction of `createLogger` (made once; that redaction walked every line's paths, half of the line's cost).
 * At LOG_LEVEL=warn and above it costs one level check.
 */
export function accessLog(logger: Logger) {
  const lines = logger.child({}, { redact: [] });
  return (request: FastifyRequest, reply: FastifyReply): void => {
    if (!lines.isLevelEnabled('info') || UNLOGGED.test(request.url)) return;
    lines.info(
      {
        requestId: (request as GatewayRequest).ctx?.requestId,
        req: { method: request.method, url: redactUrl(request.url) },
        res: { statusCode: reply.statusCode },
        responseTime: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
  };
}

/**
 * The edge, before any guard, pipe or interceptor: the request's start, the one JSON body parser (any other
 * media type is not read: the route sees no body), then one check of the parsed query string and body.
 */
function readRequests(fastify: FastifyInstance, begin: ReturnType<typeof beginRequest>, log: ReturnType<typeof accessLog>): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    begin(request, reply);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    log(request, reply);
    done();
  });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, request.headers['content-type'], request.headers['content-encoding']));
    } catch (err) {
      done(err as Error);
    }
  });
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  fastify.addHook('preValidation', (request, _reply, done) => {
    // consistency tokens are checked before anything can wait on them (docs/api.md "Consistency tokens")
    const sent = tokensOfHeader(request.headers);
    if ('problem' in sent) return done(new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message: sent.problem }));
    if (sent.tokens.length) (request as GatewayRequest).ctx.after = sent.tokens;
    done(edgeCheck(request.query, request.body));
  });
  // `Location` on every 201 whose answer names the created resource (`id`): the collection's path and the id, e.g.
  // `/api/v1/organizations/{org}/groups/{groupId}`; an answer replayed under its Idempotency-Key too
  fastify.addHook('preSerialization', (request, reply, payload, done) => {
    const id = (payload as { id?: unknown } | null)?.id;
    if (reply.statusCode === 201 && typeof id === 'string')
      reply.header('Location', `${request.originalUrl.split('?', 1)[0].replace(/\/+$/, '')}/${encodeURIComponent(id)}`);
    done(null, payload);
  });
  // a write answers with the position of what it appended: the client may send it back (the gateway also remembers it)
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const written = (request as GatewayRequest).ctx?.written;
    if (written?.length) reply.header(CONSISTENCY_HEADER, written.join(', '));
    done(null, payload);
  });
}

/** What does not depend on the HTTP server: the API prefix (health outside it), shutdown hooks, OpenAPI. */
export function configureGateway<A extends INestApplication>(app: A): A {
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/serving', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, openApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** The OpenAPI document of an app whose global prefix is set (also of one made with `preview: true`, no infrastructure). */
export function openApiDocument(app: INestApplication) {
  return completeOpenApi(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('People platform API')
        .setDescription('User management and access control. Errors are application/problem+json with a stable `code`.')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    ),
  );
}
