import { runPolicyCli } from './policy-cli';

// `npm run policy -- plan|apply <file|dir>`, `npm run policy -- export <dir>`: see policy-cli.ts.
runPolicyCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
