import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AnyUser, RequirePermission } from './permission.decorator';
import { AnsweredHere, Public } from './public.decorator';
import { routeRules } from './route-rules';

@Controller()
class Open {
  @Get('a')
  a() {}
}
Public()(Open);

@Controller()
class Guarded {
  @Get('b')
  @RequirePermission('organization.view')
  @AnsweredHere()
  b() {}

  @Get('c')
  @AnyUser()
  @Public()
  c() {}
}

/** the same inherited handler under two controllers that declare different rules */
class Base {
  @Get('d')
  d() {}
}
@Controller()
class OpenChild extends Base {}
Public()(OpenChild);
@Controller()
class ClosedChild extends Base {}

describe('routeRules', () => {
  const reflector = new Reflector();
  const of = (controller: new () => object, name: string) =>
    routeRules(reflector, { getClass: () => controller, getHandler: () => (controller.prototype as Record<string, () => void>)[name] } as never);

  it('reads what the handler declares, else what its controller declares', () => {
    expect(of(Open, 'a')).toEqual({ isPublic: true, answeredHere: false, requirement: undefined });
    expect(of(Guarded, 'b')).toEqual({ isPublic: false, answeredHere: true, requirement: { kind: 'organization', permission: 'organization.view' } });
    expect(of(Guarded, 'c')).toMatchObject({ isPublic: true, answeredHere: false, requirement: { kind: 'any-user' } });
  });

  it('keeps the rules of each controller and handler apart, and gives the same object again', () => {
    expect(of(OpenChild, 'd').isPublic).toBe(true);
    expect(of(ClosedChild, 'd').isPublic).toBe(false);
    expect(of(Guarded, 'b')).toBe(of(Guarded, 'b'));
  });
});
