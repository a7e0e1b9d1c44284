import { Controller, Injectable, Module, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { MessagePattern } from '@nestjs/microservices';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { AuthzConfigurationError, AuthzGuard, AuthzModule, Permissions, Policy, Public, Resource, Scopes } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';

// Mistakes in the decorators of message, gateway and GraphQL handlers stop the app at start, as they do on HTTP
// routes, instead of failing every message (the route report reads them once at bootstrap).

const issuer = TestTokenIssuer.create();
const policies = { note: { roles: { reader: ['CanRead'] } } };

@Scopes('notes:read')
@Controller()
class PublicUnderClassScopes {
  @Public()
  @MessagePattern('notes.health')
  health() {
    return 'ok';
  }
}

@Injectable()
@WebSocketGateway()
class ResourceWithoutPermissions {
  @Resource('id')
  @SubscribeMessage('notes.get')
  get() {
    return 'note';
  }
}

@Controller()
class UnknownPolicy {
  @Policy('notte')
  @Permissions('CanRead')
  @MessagePattern('notes.list')
  list() {
    return [];
  }
}

@Controller()
class Fine {
  @Policy('note')
  @Permissions('CanRead')
  @MessagePattern('notes.fine')
  list() {
    return [];
  }
}

async function start(metadata: { controllers?: Type[]; providers?: Type[] }): Promise<void> {
  @Module({ controllers: metadata.controllers ?? [], providers: metadata.providers ?? [] })
  class Handlers {}
  const moduleRef = await Test.createTestingModule({
    imports: [AuthzModule.forRoot(issuer.moduleOptions({ policies })), Handlers],
    providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
  } finally {
    await app.close();
  }
}

describe('start-up checks of non-HTTP handlers', () => {
  it('should refuse a @Public() message handler in a controller that requires scopes', async () => {
    const failure = await start({ controllers: [PublicUnderClassScopes] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthzConfigurationError);
    expect((failure as Error).message).toContain('PublicUnderClassScopes.health is @Public() and also has @Scopes() or @Permissions()');
  });

  it('should refuse @Resource() on a gateway handler without @Permissions()', async () => {
    await expect(start({ providers: [ResourceWithoutPermissions] })).rejects.toThrow('ResourceWithoutPermissions.get has @Resource() but no @Permissions()');
  });

  it('should refuse a message handler that checks a policy the store does not define', async () => {
    await expect(start({ controllers: [UnknownPolicy] })).rejects.toThrow("UnknownPolicy.list checks permissions in policy 'notte'");
  });

  it('should start with handlers whose decorators are right', async () => {
    await expect(start({ controllers: [Fine] })).resolves.toBeUndefined();
  });
});
