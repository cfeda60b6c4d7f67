import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { Principal, RequestWithPrincipal } from './principal';

/** The principal a guard attached to the request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (!principal) throw new Error('no auth guard ran for this route');
  return principal;
});
