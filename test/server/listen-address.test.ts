import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { HttpServerError, ListenAddressError, listenOn, parseListenAddress } from '../../src/server/listen-address.js';

const valid: [string, string, number][] = [
  ['127.0.0.1:8080', '127.0.0.1', 8080],
  [':8080', '0.0.0.0', 8080],
  ['8080', '0.0.0.0', 8080],
  ['[::1]:8080', '::1', 8080],
  ['[::]:9090', '::', 9090],
  ['0.0.0.0:80', '0.0.0.0', 80],
  ['localhost:0', 'localhost', 0],
  ['ctl-01.example.com:65535', 'ctl-01.example.com', 65535],
  [' 127.0.0.1:8080 ', '127.0.0.1', 8080],
];

for (const [input, host, port] of valid) {
  test(`parseListenAddress(${JSON.stringify(input)}) → ${host} ${port}`, () => {
    assert.deepEqual(parseListenAddress(input), { host, port });
  });
}

const invalid: [string, RegExp][] = [
  ['', /empty/],
  ['127.0.0.1', /missing ":PORT"/],
  ['127.0.0.1:', /port "" is not a number/],
  ['127.0.0.1:http', /port "http" is not a number/],
  ['127.0.0.1:65536', /above 65535/],
  ['127.0.0.1:-1', /not a number/],
  ['127.0.0.1:123456', /not a number/],
  ['::1:8080', /must be written in brackets/],
  ['[::1]', /missing ":PORT"/],
  ['[::1:8080', /unclosed/],
  ['[127.0.0.1]:8080', /not an IPv6 address/],
  ['bad host:8080', /neither an IP address nor a host name/],
  ['-x:8080', /neither an IP address nor a host name/],
];

for (const [input, reason] of invalid) {
  test(`parseListenAddress(${JSON.stringify(input)}) throws E_LISTEN_ADDRESS`, () => {
    assert.throws(
      () => parseListenAddress(input),
      (error: unknown) => {
        assert.ok(error instanceof ListenAddressError);
        assert.equal(error.code, 'E_LISTEN_ADDRESS');
        assert.equal(error.input, input);
        assert.match(error.reason, reason);
        assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(error)) as object).sort(), ['code', 'input', 'message', 'reason']);
        return true;
      },
    );
  });
}

/** listenOn's failure for `host:port`, asserted to be an HttpServerError. */
async function listenFailure(host: string, port: number): Promise<HttpServerError> {
  const server: Server = createServer();
  try {
    await listenOn(server, host, port);
  } catch (error) {
    assert.ok(error instanceof HttpServerError, String(error));
    assert.equal(error.code, 'E_HTTP_LISTEN');
    return error;
  }
  server.close();
  throw new Error(`listening on ${host}:${port} worked`);
}

test('listenOn says why it cannot listen, in words that point at the fix', async () => {
  const taken = createServer();
  await listenOn(taken, '127.0.0.1', 0);
  const { port } = taken.address() as AddressInfo;
  try {
    assert.equal((await listenFailure('127.0.0.1', port)).message, `cannot listen on 127.0.0.1:${port}: the address is already in use (another ygg, or another program, listens there)`);
  } finally {
    taken.close();
  }
  // TEST-NET-1 (RFC 5737) is never an address of this machine.
  assert.equal((await listenFailure('192.0.2.1', 7070)).message, 'cannot listen on 192.0.2.1:7070: 192.0.2.1 is not an address of this machine');
  assert.equal((await listenFailure('no-such-host.invalid', 7070)).message, 'cannot listen on no-such-host.invalid:7070: the host name "no-such-host.invalid" does not resolve');
});
