/**
 * PROTOTYPE for the measurement: the gateway on @nestjs/platform-fastify, with the same edge (docs/http.md).
 */
import { isUtf8 } from 'node:buffer';
import querystring from 'node:querystring';
import { randomUUID } from 'node:crypto';
import { BadRequestException, HttpException, HttpStatus, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import pinoHttp from 'pino-http';
import type { Logger } from 'pino';
import { ErrorCode } from '@app/contracts';
import { createLogger, PinoNestLogger, type ServiceConfig } from '@app/platform';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { mediumOf, type GatewayRequest } from '../../apps/gateway/src/common/request-context';
import { jsonBodyProblem, queryProblem } from '../../apps/gateway/src/common/json-body';
import { completeOpenApi } from '../../apps/gateway/src/common/openapi';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const invalid = (message: string) => new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message });

export async function createFastifyGatewayApp(config: ServiceConfig<'gateway'>, logger: Logger = createLogger('gateway', config.LOG_LEVEL)) {
  const adapter = new FastifyAdapter({
    trustProxy: false,
    bodyLimit: 1024 * 1024,
    skipMiddie: true,
    routerOptions: { querystringParser: (s: string) => querystring.parse(s) },
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.register(config, logger), adapter, {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  const fastify = adapter.getInstance();
  const accessLog = pinoHttp({
    logger,
    customProps: (req) => ({ requestId: req.id }),
    autoLogging: { ignore: (req) => req.url === '/metrics' || /^\/health(\/ready|\/serving)?$/.test(req.url ?? '') },
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    const req = request as unknown as GatewayRequest;
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const forwarded = config.TRUST_PROXY ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0].trim() : '';
    req.ctx = {
      requestId,
      ip: (forwarded || request.socket.remoteAddress || '').replace(/^::ffff:/, ''),
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 1000) : undefined,
      medium: mediumOf(req),
    };
    reply.header('X-Request-Id', requestId);
    const auth = req.headers.authorization;
    if (auth && /^token\s+/i.test(auth)) req.headers.authorization = auth.replace(/^token\s+/i, 'Bearer ');
    Object.assign(request.raw, { id: requestId, query: request.query });
    accessLog(request.raw, reply.raw);
    done();
  });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    const encoding = request.headers['content-encoding'];
    if ((encoding && encoding.toLowerCase() !== 'identity') || (charset && charset !== 'utf-8'))
      return done(new HttpException({ code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: 'unsupported' }, HttpStatus.UNSUPPORTED_MEDIA_TYPE));
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(invalid('request body is not valid UTF-8'));
    if (bytes.length === 0) return done(null, {});
    try {
      done(null, JSON.parse(bytes.toString('utf8')));
    } catch {
      done(invalid('request body is not valid JSON'));
    }
  });
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  fastify.addHook('preValidation', (request, _reply, done) => {
    const problem = queryProblem(request.query as Record<string, unknown>) ?? (request.body === undefined ? undefined : jsonBodyProblem(request.body));
    done(problem ? invalid(`${problem.field}: ${problem.message}`) : undefined);
  });
  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/serving', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.enableShutdownHooks();
  const doc = completeOpenApi(
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
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
  return app;
}
