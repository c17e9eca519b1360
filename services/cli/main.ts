import { runCli } from './program.ts';

// Wiring only: real streams in, the exit code out. The only process.exit in
// the CLI; long-running parts resolve runCli only once they have shut down.
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  isTty: Boolean(process.stdout.isTTY),
});
// Writes to a pipe are asynchronous: exiting at once would cut a long
// `--json` short. An empty write's callback runs after every earlier write.
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
