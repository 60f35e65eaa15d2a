import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';

/** Whether Client Push answers where the apps look for it (lib/nextcloud/client-push.ts). */
export interface PushCheck {
  readonly works: boolean;
  /** Why not, in words. */
  readonly problem?: string;
}

/**
 * One HTTPS request for notify_push's test counter (`/push/test/cookie`: a number, no side
 * effects) through nginx, as an app's WebSocket goes. The certificate is status's other check;
 * this one only asks whether the push server answers behind nginx. `connect` is injectable:
 * tests reach nginx on a Unix socket.
 */
export function checkPush(host: string, port: number, timeoutMs = 3000,
  connect: () => net.Socket = () => net.connect(port, host)): Promise<PushCheck> {
  return new Promise((resolve) => {
    const servername = net.isIP(host) ? undefined : host;
    const req = https.request({
      host, port, path: '/push/test/cookie', method: 'GET', timeout: timeoutMs,
      createConnection: () => tls.connect({ socket: connect(), servername, rejectUnauthorized: false }),
    }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        if (res.statusCode === 200 && /^\d+$/.test(body.trim())) resolve({ works: true });
        else if (res.statusCode === 502 || res.statusCode === 504) resolve({ works: false, problem: 'its server is not running yet (the notify_push app installs at Nextcloud\'s start; offline, at a later start)' });
        else resolve({ works: false, problem: `the push address answered HTTP ${res.statusCode}` });
      });
    });
    req.on('timeout', () => { req.destroy(); resolve({ works: false, problem: `no answer within ${timeoutMs / 1000} s` }); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ works: false, problem: `nothing answers (${e.code ?? e.message})` }));
    req.end();
  });
}

/** The status line. */
export function pushWords(p: PushCheck | undefined): string {
  if (!p) return 'not checked (the home cloud has no published HTTPS address yet)';
  return p.works ? 'on: the apps hear of changes at once (Client Push)' : `off: ${p.problem}; the apps ask every 30 s instead`;
}
