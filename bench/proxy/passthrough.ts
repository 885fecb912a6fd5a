import { spawn } from 'node:child_process';

/**
 * The limit line of the proxy benchmark: `node passthrough.js COMMAND ARGS…` spawns the server and pipes the
 * client's stdin to it and its stdout back, byte for byte: what a stdio wrapper costs with no parsing, no
 * policy, no detectors and no audit.
 */
const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on('exit', (code) => process.exit(code ?? 1));
process.stdin.on('end', () => child.stdin.end());
