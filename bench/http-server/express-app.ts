/**
 * The gateway as it was built on Express (`@nestjs/platform-express`, until the move to Fastify), kept as
 * the baseline of bench/http-server: the same GatewayModule, configureGateway and edge checks
 * (common/json-body.ts, common/request-context.ts), wired as Express middleware the way gateway.app.ts
 * wired them.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { raw, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import pinoHttp from 'pino-http';
import { createLogger, PinoNestLogger, type ServiceConfig } from '@app/platform';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { configureGateway } from '../../apps/gateway/src/gateway.app';
import { openRequestContext } from '../../apps/gateway/src/common/request-context';
import { BODY_LIMIT_BYTES, edgeCheck, parseJsonBody } from '../../apps/gateway/src/common/json-body';

/** pino-http's request log lines, as the Express gateway wrote them (the Fastify gateway now writes its own, cheaper line). */
const accessLogger = (logger: Logger) =>
  pinoHttp({
    logger,
    customProps: (req) => ({ requestId: req.id }),
    autoLogging: { ignore: (req) => req.url === '/metrics' || /^\/health(\/ready|\/serving)?$/.test(req.url ?? '') },
  });

export async function createExpressGatewayApp(config: ServiceConfig<'gateway'>, logger: Logger = createLogger('gateway', config.LOG_LEVEL)) {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.register(config, logger), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  app.set('trust proxy', config.TRUST_PROXY);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const ctx = openRequestContext(req);
    Object.assign(req, { ctx, id: ctx.requestId });
    res.setHeader('X-Request-Id', ctx.requestId);
    next();
  });
  app.use(accessLogger(logger));
  // body-parser reads the bytes of a JSON body (1 MiB, never inflated); then the same parser and check as on Fastify
  app.use(raw({ type: 'application/json', limit: BODY_LIMIT_BYTES, inflate: false }));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    try {
      if (Buffer.isBuffer(req.body)) req.body = parseJsonBody(req.body, req.headers['content-type'], undefined);
      next(edgeCheck(req.query, req.body));
    } catch (err) {
      next(err);
    }
  });
  return configureGateway(app);
}
