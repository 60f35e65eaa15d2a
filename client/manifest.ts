/**
 * Reads a snapshot's MANIFEST (see lib/backup/scripts/manifest.sh): GNU sha256sum lines, where
 * a line that starts with a backslash holds a name with \\, \n and \r escaped. Names are bytes:
 * a family's file names need not be valid UTF-8, so they are decoded only for display.
 */
export interface ManifestEntry {
  readonly sha256: string;
  /** The file's path under files/, as bytes, "/"-separated. */
  readonly name: Buffer;
  /** The name as the MANIFEST writes it, for messages. */
  readonly key: string;
}

const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

function unescape(key: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== BACKSLASH) { out.push(key[i]); continue; }
    const next = key[++i];
    if (next === 0x6e) out.push(NEWLINE);
    else if (next === 0x72) out.push(0x0d);
    else if (next === BACKSLASH) out.push(BACKSLASH);
    else throw new Error(`MANIFEST: unknown escape \\${String.fromCharCode(next ?? 0x3f)} in ${key.toString('latin1')}`);
  }
  return Buffer.from(out);
}

export function parseManifest(text: Buffer): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(NEWLINE, start);
    if (end < 0) end = text.length;
    const line = text.subarray(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    const escaped = line[0] === BACKSLASH;
    const body = escaped ? line.subarray(1) : line;
    const sha256 = body.subarray(0, 64).toString('latin1');
    if (!/^[0-9a-f]{64}$/.test(sha256) || body[64] !== 0x20 || body[65] !== 0x20) {
      throw new Error(`MANIFEST: not a checksum line: ${line.toString('latin1').slice(0, 80)}`);
    }
    const raw = body.subarray(66);
    entries.push({ sha256, name: escaped ? unescape(raw) : Buffer.from(raw), key: raw.toString('utf8') });
  }
  return entries;
}
