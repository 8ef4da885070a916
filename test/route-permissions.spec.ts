import 'reflect-metadata';
import { Controller, Get, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import pino from 'pino';
import { permissionScope } from '@app/contracts';
import { loadConfig } from '@app/platform';
import { GatewayModule } from '../apps/gateway/src/gateway.module';
import { IS_PUBLIC } from '../apps/gateway/src/auth/public.decorator';
import { REQUIRED_PERMISSION, RequirePermission, type PermissionRequirement } from '../apps/gateway/src/auth/permission.decorator';

interface Route {
  route: string;
  isPublic: boolean;
  requirement?: PermissionRequirement;
}

/** Every route of the given controllers, read from Nest's own routing metadata, with what it declares. */
function routesOf(controllers: Type<unknown>[]): Route[] {
  const routes: Route[] = [];
  for (const controller of controllers) {
    const base = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, controller) ?? '')[0];
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = controller.prototype[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const paths = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      for (const p of paths) {
        routes.push({
          route: `${RequestMethod[method]} /${[base, p].filter((x) => x && x !== '/').join('/')}`,
          isPublic: Reflect.getMetadata(IS_PUBLIC, handler) ?? Reflect.getMetadata(IS_PUBLIC, controller) ?? false,
          requirement: Reflect.getMetadata(REQUIRED_PERMISSION, handler) ?? Reflect.getMetadata(REQUIRED_PERMISSION, controller),
        });
      }
    }
  }
  return routes;
}

/** What is wrong with a route's declaration (empty: nothing). */
function problemsOf(r: Route): string[] {
  const problems: string[] = [];
  if (!r.isPublic && !r.requirement) problems.push(`${r.route}: declares neither a permission nor @Public()`);
  if (r.isPublic && r.requirement) problems.push(`${r.route}: both @Public() and a permission`);
  const req = r.requirement;
  if (req?.kind === 'organization' || req?.kind === 'project') {
    if (permissionScope(req.permission) !== req.kind) problems.push(`${r.route}: ${req.permission} is not an ${req.kind} permission of the catalogue`);
  }
  if ((req?.kind === 'organization' || req?.kind === 'member' || req?.kind === 'project') && !r.route.includes(':org'))
    problems.push(`${r.route}: needs an :org path parameter`);
  if (req?.kind === 'project' && !r.route.includes(':projectId')) problems.push(`${r.route}: needs a :projectId path parameter`);
  return problems;
}

describe('every gateway route declares its permission or @Public()', () => {
  const module = GatewayModule.register(loadConfig('gateway', { NATS_URL: 'nats://127.0.0.1:4222', LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
  const routes = routesOf((module.controllers ?? []) as Type<unknown>[]);

  it('finds the routes of every controller of the gateway module', () => {
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.map((r) => r.route)).toEqual(
      expect.arrayContaining([
        'GET /permissions',
        'GET /organizations/:org/roles',
        'PUT /organizations/:org/people/:userId/role',
        'DELETE /organizations/:org/projects/:projectId/members/:subjectId',
        'POST /auth/login',
        'GET /me',
      ]),
    );
  });

  it('no route is left without a declaration, and each declaration names a catalogue permission of the right scope', () => {
    expect(routes.flatMap(problemsOf)).toEqual([]);
  });

  it('the check itself catches an undeclared route and a wrongly scoped permission', () => {
    @Controller('organizations/:org/things')
    class Undeclared {
      @Get()
      list() {}

      @Get('x')
      @RequirePermission('project.view')
      wrong() {}
    }
    expect(routesOf([Undeclared]).flatMap(problemsOf)).toEqual([
      'GET /organizations/:org/things: declares neither a permission nor @Public()',
      'GET /organizations/:org/things/x: project.view is not an organization permission of the catalogue',
    ]);
  });
});
