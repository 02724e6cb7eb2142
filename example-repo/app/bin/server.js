#!/usr/bin/env node
// echo-server: the artifact every job of the example fleet runs.
//
//   bin/server.js --port 8080 [--host 0.0.0.0] [--config conf/app.yaml]
//
//   GET /health          200 "ok"
//   GET /                200 JSON: name, version, hostname, pid, uptime, config
//   GET /suggest?q=pre   200 JSON: words from the dictionary named by `dict:` in the config
//
// One log line per request on stdout. SIGTERM/SIGINT: stop accepting, finish in-flight
// requests, exit 0. No dependencies; the version comes from the package.json shipped
// next to bin/ in the tarball (pack.sh writes it).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

function usage(message) {
  process.stderr.write(`${message}\nusage: server.js --port N [--host ADDR] [--config FILE]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { port: undefined, host: '0.0.0.0', config: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') usage('echo-server: a tiny HTTP server');
    if (!['--port', '--host', '--config'].includes(flag)) usage(`unknown argument: ${flag}`);
    if (value === undefined) usage(`${flag} needs a value`);
    args[flag.slice(2)] = value;
    i++;
  }
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`--port must be 1..65535, got ${args.port}`);
  return { ...args, port };
}

/** The config file is flat `key: value` lines (a YAML subset); `#` starts a comment line. */
function readConfig(file) {
  if (!file) return {};
  const config = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    config[line.slice(0, colon).trim()] = line.slice(colon + 1).trim().replace(/^(["'])(.*)\1$/, '$2');
  }
  return config;
}

function readWords(file) {
  if (!file) return [];
  return readFileSync(resolve(file), 'utf8')
    .split('\n')
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== '' && !w.startsWith('#'))
    .sort();
}

function log(fields) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

const args = parseArgs(process.argv.slice(2));
const config = readConfig(args.config);
const words = readWords(config.dict);
const name = config.name || pkg.name;
const started = Date.now();

function send(res, status, body) {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    log({ method: req.method, path: req.url, status: res.statusCode, ms: Math.round(ms * 10) / 10, remote: req.socket.remoteAddress });
  });
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
  if (url.pathname === '/health') return send(res, 200, 'ok\n');
  if (url.pathname === '/') {
    return send(res, 200, {
      name,
      version: pkg.version,
      hostname: hostname(),
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      config,
    });
  }
  if (url.pathname === '/suggest') {
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    const limit = Math.min(Number(url.searchParams.get('limit')) || 10, 100);
    return send(res, 200, { q, words: q ? words.filter((w) => w.startsWith(q)).slice(0, limit) : [] });
  }
  return send(res, 404, 'not found\n');
});

server.keepAliveTimeout = 5000;
server.on('error', (err) => {
  log({ event: 'error', message: err.message });
  process.exit(1);
});
server.listen(args.port, args.host, () => {
  log({ event: 'listening', name, version: pkg.version, host: args.host, port: args.port, pid: process.pid, words: words.length });
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  log({ event: 'stopping', signal });
  server.close(() => {
    log({ event: 'stopped' });
    process.exit(0);
  });
  server.closeIdleConnections();
  // In-flight requests get a few seconds; then give up (the agent would SIGKILL anyway).
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
