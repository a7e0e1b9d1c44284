import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { TokenVerifier } from 'nestjs-authz';
import { graphqlWsOnConnect } from 'nestjs-authz';
import { NotesModule } from '../notes.module';
import { NotesResolver } from './notes.resolver';

/**
 * The notes over GraphQL at `/graphql` (Apollo on Express, code first): queries `notes`, `note(id:)`, mutations
 * `createNote`, `deleteNote`, and the `noteCreated` subscription over graphql-ws on the same path, the token in
 * `connectionParams.authorization`, checked when the client connects and the connection closed when it expires.
 * Imports NotesModule (its NotesService, which publishes `noteCreated` for notes created over REST too, and
 * NoteEvents), so it needs what NotesModule needs (the SQL database, and AuthzModule, global) and the app's global
 * AuthzGuard.
 */
@Module({
  imports: [
    NotesModule,
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [TokenVerifier],
      useFactory: (verifier: TokenVerifier): ApolloDriverConfig => ({
        path: '/graphql',
        autoSchemaFile: true,
        sortSchema: true,
        // Errors carry no server stack traces (Apollo adds them unless NODE_ENV=production), as REST answers carry none.
        includeStacktraceInErrorResponses: false,
        // AuthzGuard runs on every resolver, field resolvers included.
        fieldResolverEnhancers: ['guards', 'filters'],
        subscriptions: { 'graphql-ws': { path: '/graphql', onConnect: graphqlWsOnConnect(verifier) } },
      }),
    }),
  ],
  providers: [NotesResolver],
})
export class NotesGraphqlModule {}
