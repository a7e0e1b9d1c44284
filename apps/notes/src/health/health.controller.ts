import { Controller, Get } from '@nestjs/common';
import { Public } from 'nestjs-authz';

/** Liveness for load balancers and for people: the one route without a token. */
@Controller('health')
export class HealthController {
  @Public()
  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
