import { describeWhen } from '../support/requirements';
import { SlowDownload, latencies, percentile, slowDownload } from '../support/slow-clients';
import { WebStack, startWebStack, synthesizedWeb, webTierAvailable } from '../support/web-stack';

const MiB = 2 ** 20;

/**
 * The bound: while four phones download slowly, an ordinary PHP request (the web page, a
 * calendar sync, the readiness probe) takes at most 3× its idle median, with 50 ms allowed
 * for scheduling noise on a busy 2-core machine. Blocked requests take seconds instead.
 */
const bound = (idle: number) => Math.max(3 * idle, 50);

describeWhen(webTierAvailable(), 'the whole family at once: slow downloads on real nginx and php-fpm with the synthesized pool', () => {
  let web: WebStack;
  let downloads: SlowDownload[] = [];

  beforeAll(async () => {
    const s = synthesizedWeb();
    web = await startWebStack(s.conf, s, { site: s.site });
  }, 30_000);
  afterEach(() => { downloads.forEach((d) => d.stop()); downloads = []; });
  afterAll(async () => { await web?.stop(); });

  const idleMedian = async () => percentile(await latencies(web.endpoint, '/status.php', 15), 50);
  const whileDownloading = async (count: number, bytes: number) => {
    downloads = Array.from({ length: count }, () => slowDownload(web.endpoint, `/remote.php/dav/files/alice/movie.mp4?stream=${bytes}`, 1 * MiB));
    await new Promise((r) => setTimeout(r, 1500)); // every download under way
    const during = await latencies(web.endpoint, '/status.php', 15);
    expect(downloads.every((d) => d.received() > 0)).toBe(true);
    return during;
  };

  it('answers a page load promptly while four phones download files smaller than the response buffer', async () => {
    const idle = await idleMedian();
    const during = await whileDownloading(4, 64 * MiB);
    expect({ idle, median: percentile(during, 50) }).toEqual({ idle, median: expect.toBeWithin(0, bound(idle)) });
  }, 60_000);

  it('answers a page load promptly while four phones stream files larger than the buffer (each holds a worker)', async () => {
    const idle = await idleMedian();
    const during = await whileDownloading(4, 512 * MiB);
    expect({ idle, median: percentile(during, 50) }).toEqual({ idle, median: expect.toBeWithin(0, bound(idle)) });
  }, 60_000);

  it('answers promptly while eight phones download at once, more than there are PHP workers (nginx holds their bytes)', async () => {
    const idle = await idleMedian();
    const during = await whileDownloading(8, 32 * MiB);
    // The phones have a few MiB each; the rest waits in nginx's buffer, not in a PHP worker.
    expect(downloads.every((d) => d.received() < 16 * MiB)).toBe(true);
    expect({ idle, median: percentile(during, 50) }).toEqual({ idle, median: expect.toBeWithin(0, bound(idle)) });
  }, 60_000);
});

expect.extend({
  toBeWithin(received: number, min: number, max: number) {
    const pass = received >= min && received <= max;
    return { pass, message: () => `expected ${received.toFixed(1)} ms to be within ${min}–${max.toFixed(1)} ms` };
  },
});

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Expect { toBeWithin(min: number, max: number): unknown }
    interface Matchers<R> { toBeWithin(min: number, max: number): R }
  }
}
