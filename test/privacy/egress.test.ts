import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { ledgerLines, summarise } from '../../client/egress-ledger';
import { APP_STORE } from '../../lib/privacy/privacy-settings';
import { squidAvailable, startEgress, TestEgress } from '../support/egress-point';
import { commands, describeWhen } from '../support/requirements';

// The egress point as it runs in its pod: Squid with synth's squid.conf, under egress-run.sh.
// Every destination is a server on this machine's loopback, named through Squid's hosts file:
// no request leaves the machine.
const ready = (() => {
  const tools = commands(['openssl'], 'apt-get install openssl');
  return tools.ok ? squidAvailable() : tools;
})();

describeWhen(ready, 'the egress point (Squid) admits only the allowed destinations', () => {
  let egress: TestEgress;
  let server: https.Server;
  let serverPort: number;
  let served = 0;
  let ca: string;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-egress-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=apps.example.test',
      '-addext', 'subjectAltName=DNS:apps.example.test,DNS:tracker.example.test',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    ca = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: ca }, (req, res) => {
      served++;
      res.end(`app list for ${req.headers.host}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    serverPort = (server.address() as net.AddressInfo).port;
    egress = await startEgress({
      destinations: [...APP_STORE, { host: 'apps.example.test', purpose: 'the test\'s app store' }],
      httpsPorts: [serverPort],
      hosts: { 'apps.example.test': '127.0.0.1', 'tracker.example.test': '127.0.0.1' },
    });
  }, 60_000);
  afterAll(async () => {
    await egress?.stop();
    server?.close();
  });

  /** CONNECT through the egress point; then, when admitted, a GET over TLS inside the tunnel. */
  const through = (target: string, servername = target.split(':')[0]) => new Promise<{ status: number; body?: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: egress.port, method: 'CONNECT', path: target });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0 });
        return;
      }
      const secure = tls.connect({ socket, servername, ca }, () => {
        secure.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      secure.on('data', (d) => { text += d; });
      secure.once('end', () => resolve({ status: 200, body: text.split('\r\n\r\n')[1] }));
      secure.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });

  it('admits an allowed host over HTTPS (CONNECT), and the answer comes back through the tunnel', async () => {
    const r = await through(`apps.example.test:${serverPort}`);
    expect(r).toEqual({ status: 200, body: 'app list for apps.example.test' });
  });

  it('refuses a host that is not allowed, before any connection to it', async () => {
    const before = served;
    expect((await through(`tracker.example.test:${serverPort}`)).status).toBe(403);
    expect(served).toBe(before);
  });

  it('refuses an address typed instead of a name, another port of an allowed host, and plain HTTP elsewhere', async () => {
    expect((await through(`127.0.0.1:${serverPort}`)).status).toBe(403);
    expect((await through('apps.example.test:22')).status).toBe(403);
    const plain = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: egress.port, path: 'http://tracker.example.test/collect?lat=52.5&lon=13.4', headers: { Host: 'tracker.example.test' } },
        (res) => { res.resume(); resolve(res.statusCode ?? 0); }).once('error', reject);
    });
    expect(plain).toBe(403);
  });

  it('writes every attempt to the ledger, which status reads: the admitted one, and each refused one', async () => {
    const count = (ledger: ReturnType<typeof summarise>, list: 'contacted' | 'refused', host: string) => ledger[list].find((c) => c.host === host)?.count ?? 0;
    const before = summarise(read(egress.logDir), new Date(Date.now() + 1000));
    await through(`apps.example.test:${serverPort}`);
    await through(`tracker.example.test:${serverPort}`);
    await through(`127.0.0.1:${serverPort}`);
    // Squid writes a line when the connection ends; the tunnels above have ended.
    const log = await waitFor(() => read(egress.logDir), (l) => count(summarise(l, new Date(Date.now() + 1000)), 'refused', '127.0.0.1') > count(before, 'refused', '127.0.0.1'));
    const ledger = summarise(log, new Date(Date.now() + 1000));
    expect(count(ledger, 'contacted', 'apps.example.test') - count(before, 'contacted', 'apps.example.test')).toBe(1);
    expect(count(ledger, 'refused', 'tracker.example.test') - count(before, 'refused', 'tracker.example.test')).toBe(1);
    // Only the one host was admitted, ever; the probe-like connections of the start are not lines.
    expect(ledger.contacted.map((c) => c.host)).toEqual(['apps.example.test']);
    expect(ledger.contacted[0].receivedBytes).toBeGreaterThan(0);
    expect(ledger.refused.map((c) => c.host)).toEqual(expect.arrayContaining(['tracker.example.test', '127.0.0.1']));
    // Where, when and how much; never a path or a query (the coordinates the earlier test sent).
    expect(log).not.toMatch(/lat=|collect/);
    const text = ledgerLines(ledger, (n) => `${n} B`).join('\n');
    expect(text).toMatch(/apps\.example\.test\s+\d+×.*allowed in the settings/);
    expect(text).toMatch(/refused: tracker\.example\.test \d+× by the home cloud \(not allowed; privacy\.allowHosts would admit it\)/);
    expect(text).toMatch(/nothing else left the home/);
  });

  it('turns the ledger over on SIGHUP (as at midnight) and still reads the whole week', async () => {
    await through(`apps.example.test:${serverPort}`);
    await waitFor(() => read(egress.logDir), (l) => (l.match(/apps\.example\.test/g) ?? []).length >= 4);
    egress.signal('SIGHUP');
    await waitFor(() => (fs.existsSync(path.join(egress.logDir, 'access.log.0')) ? 'yes' : ''), (s) => s === 'yes');
    await through(`apps.example.test:${serverPort}`);
    const log = await waitFor(() => read(egress.logDir), (l) => (l.match(/CONNECT apps\.example\.test/g) ?? []).length >= 5);
    expect(fs.readFileSync(path.join(egress.logDir, 'access.log.0'), 'utf8')).toMatch(/apps\.example\.test/);
    expect(summarise(log, new Date(Date.now() + 1000)).contacted.find((c) => c.host === 'apps.example.test')?.count).toBeGreaterThanOrEqual(4);
    expect(egress.output()).toMatch(/ledger turned over/);
  });
});

describeWhen(ready, 'the egress point\'s container script', () => {
  it('starts despite a pid file left by a Squid that was killed, and stops on SIGTERM with exit 0', async () => {
    // The pid in the file is alive (this test's own): Squid alone would refuse, "already running".
    const egress = await startEgress({ destinations: APP_STORE, httpsPorts: [443], hosts: {}, stalePidFile: true });
    const code = await egress.stop();
    expect(code).toBe(0);
    expect(egress.output()).toMatch(/admitting only: apps\.nextcloud\.com github\.com/);
  }, 60_000);
});

/** The ledger as readLedger gathers it: the turned-over logs, oldest first, then the current one. */
function read(dir: string): string {
  return fs.readdirSync(dir).filter((f) => f.startsWith('access.log'))
    .sort((a, b) => (b === 'access.log' ? -1 : a === 'access.log' ? 1 : Number(b.split('.').pop()) - Number(a.split('.').pop())))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
}

async function waitFor(get: () => string, done: (s: string) => boolean): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const s = get();
    if (done(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  return get();
}
