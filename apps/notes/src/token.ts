import { runTokenCli } from './token-cli';

// `npm run token -- <user> [scope ...]`: see token-cli.ts.
runTokenCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
