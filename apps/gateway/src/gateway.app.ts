import { RequestMethod, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json } from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import pinoHttp from 'pino-http';
import type { Logger } from 'pino';
import { createLogger, PinoNestLogger, type ServiceConfig } from '@app/platform';
import { GatewayModule } from './gateway.module';
import { requestContextMiddleware, type GatewayRequest } from './common/request-context';
import { BODY_LIMIT, jsonEdgeCheck, verifyJsonBytes } from './common/json-body';
import { completeOpenApi } from './common/openapi';

export const API_PREFIX = 'api/v1';

/** Builds the HTTP gateway (not listening yet). */
export async function createGatewayApp(config: ServiceConfig<'gateway'>, logger: Logger = createLogger('gateway', config.LOG_LEVEL)) {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.register(config, logger), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  app.set('trust proxy', false);
  app.disable('x-powered-by');
  // `a[b][c]=1` stays the key "a[b][c]": no nested objects (and no prototypes) from a query string
  app.set('query parser', 'simple');
  app.use(requestContextMiddleware(config.TRUST_PROXY));
  app.use(
    pinoHttp({
      logger,
      genReqId: (req) => (req as unknown as GatewayRequest).ctx.requestId,
      customProps: (req) => ({ requestId: (req as unknown as GatewayRequest).ctx?.requestId }),
      // probes and scrapes (every few seconds from the kubelet and Prometheus) are not logged
      autoLogging: { ignore: (req) => req.url === '/metrics' || /^\/health(\/ready|\/serving)?$/.test(req.url ?? '') },
    }),
  );
  // docs/http.md: UTF-8 JSON up to 1 MiB, uncompressed; then one check of the parsed body and query
  app.use(json({ limit: BODY_LIMIT, inflate: false, verify: verifyJsonBytes }));
  app.use(jsonEdgeCheck);
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/serving', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.enableShutdownHooks();
  setupOpenApi(app);
  return app;
}

function setupOpenApi(app: INestApplication): void {
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
}
