import * as http from 'http';
import * as https from 'https';

/** A Unix socket to nginx, with the home CA when it is the HTTPS port. */
export type Target = string | { readonly socketPath: string; readonly ca?: string };

function get(target: Target, urlPath: string, extra: http.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
  const t = typeof target === 'string' ? { socketPath: target } : target;
  const opts = { socketPath: t.socketPath, path: urlPath, headers: { Host: 'localhost' }, agent: false as const, ...extra };
  return t.ca ? https.request({ ...opts, ca: t.ca, servername: 'localhost' }, onResponse) : http.request(opts, onResponse);
}

/**
 * Phones on weak Wi-Fi: downloads that read at a limited rate (TCP back-pressure does the rest),
 * and the latency of ordinary requests made meanwhile. Used by the nginx tier and the bench.
 */
export interface SlowDownload {
  received(): number;
  stop(): void;
}

export function slowDownload(target: Target, urlPath: string, bytesPerSecond: number): SlowDownload {
  let received = 0;
  const started = Date.now();
  const req = get(target, urlPath, {}, (res) => {
    res.on('data', (chunk: Buffer) => {
      received += chunk.length;
      const ahead = (received / bytesPerSecond) * 1000 - (Date.now() - started);
      if (ahead > 0) {
        res.pause();
        setTimeout(() => res.resume(), ahead);
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return { received: () => received, stop: () => req.destroy() };
}

/** Milliseconds for one GET through the socket, or `timeoutMs` when it does not answer in time. */
export function timedGet(target: Target, urlPath: string, timeoutMs: number): Promise<number> {
  const start = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - start) / 1e6;
  return new Promise((resolve) => {
    const req = get(target, urlPath, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? ms() : timeoutMs));
    });
    req.on('timeout', () => { req.destroy(); resolve(timeoutMs); });
    req.on('error', () => resolve(timeoutMs));
    req.end();
  });
}

/** Latencies of `count` requests made one after another. */
export async function latencies(target: Target, urlPath: string, count: number, timeoutMs = 10_000): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await timedGet(target, urlPath, timeoutMs));
  return out;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
