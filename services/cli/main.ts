import { runCli } from './program.ts';

// Wiring only: real streams in, the exit code out. The only process.exit in
// the CLI; long-running parts resolve runCli only once they have shut down.
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  isTty: Boolean(process.stdout.isTTY),
});
process.exit(code);
