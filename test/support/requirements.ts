import { execFileSync } from 'child_process';

/**
 * Integration tiers need real programs (nginx, php-fpm, PostgreSQL, busybox, the control
 * plane). On a user's machine a missing one skips the tier with the reason printed; in CI
 * (CI=true) a skip would hide a broken install, so it fails the run instead.
 */
export function describeWhen(ready: { ok: boolean; reason: string }, name: string, body: () => void): void {
  if (ready.ok) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has what it needs to run (CI must not skip)', () => {
        throw new Error(`${name} cannot run in CI: ${ready.reason}`);
      });
    });
    return;
  }
  process.stderr.write(`SKIPPED ${name}: ${ready.reason}\n`);
  describe.skip(name, body);
}

/** Whether each command is on PATH; reason names the missing ones and how to install them. */
export function commands(names: string[], install: string): { ok: boolean; reason: string } {
  const missing = names.filter((n) => !which(n));
  return { ok: missing.length === 0, reason: `missing ${missing.join(', ')} (${install})` };
}

export function which(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v "${name}"`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** PHP on PATH with these extensions loaded (e.g. pdo_pgsql, imagick). */
export function phpExtensions(names: string[], install: string): { ok: boolean; reason: string } {
  if (!which('php')) return { ok: false, reason: `missing php (${install})` };
  const loaded = execFileSync('php', ['-m'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().toLowerCase());
  const missing = names.filter((n) => !loaded.includes(n.toLowerCase()));
  return { ok: missing.length === 0, reason: `PHP lacks ${missing.join(', ')} (${install})` };
}
