/**
 * The bill of materials: every container image the synthesized manifests use (taken from
 * the manifests, never from a second list) joined with what bom/images.json knows about
 * it, plus the npm packages the client and synth need at run time (from cyclonedx-npm).
 * Pure: the entry point (scripts/bom.js) does the I/O.
 */

export interface ImageInfo {
  readonly name: string;
  readonly owner: string;
  readonly license: string;
  readonly project: string;
  readonly source: string;
  readonly imageSource: string;
  readonly imageLicense: string;
  readonly role: string;
  readonly updates: string;
}

export interface ImageUse {
  /** The reference exactly as the manifests have it. */
  readonly reference: string;
  /** Repository without registry prefix and tag, e.g. "valkey/valkey". */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
  /** "Kind/name container" for each place it is used. */
  readonly usedBy: string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = any;

/** Splits an image reference into repository, tag and digest (Docker Hub prefixes removed). */
export function parseImage(reference: string): { repository: string; tag?: string; digest?: string } {
  const [withTag, digest] = reference.split('@');
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.indexOf(':', slash + 1);
  let repository = colon >= 0 ? withTag.slice(0, colon) : withTag;
  const tag = colon >= 0 ? withTag.slice(colon + 1) : undefined;
  repository = repository.replace(/^(docker\.io\/|index\.docker\.io\/)/, '').replace(/^library\//, '');
  return { repository, tag, digest };
}

/** Every image in the manifests, once, with where it is used. */
export function imagesInManifests(objects: K8sObject[]): ImageUse[] {
  const byRef = new Map<string, string[]>();
  const visit = (owner: string, spec: K8sObject) => {
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      byRef.set(c.image, [...(byRef.get(c.image) ?? []), `${owner} ${c.name}`]);
    }
  };
  for (const o of objects) {
    const owner = `${o.kind}/${o.metadata?.name}`;
    visit(owner, o.spec?.template?.spec);
    visit(owner, o.spec?.jobTemplate?.spec?.template?.spec);
    if (o.kind === 'Pod') visit(owner, o.spec);
  }
  return [...byRef.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([reference, usedBy]) => ({ reference, ...parseImage(reference), usedBy }));
}

export interface LicenseProblem {
  readonly component: string;
  readonly license: string | undefined;
  readonly why: string;
}

/** Images without an entry, and components whose licence is missing or not allowed. */
export function bomProblems(images: ImageUse[], catalogue: Record<string, ImageInfo>, npm: NpmComponent[], allowed: string[]): LicenseProblem[] {
  const problems: LicenseProblem[] = [];
  const ok = (id: string) => licenseAllowed(id, allowed);
  for (const img of images) {
    const info = catalogue[img.repository];
    if (!info) {
      problems.push({ component: img.reference, license: undefined, why: `the image is not in bom/images.json: add its name, owner, licence and source there` });
      continue;
    }
    for (const [what, id] of [['licence', info.license], ['image licence', info.imageLicense]] as const) {
      if (!id) problems.push({ component: img.reference, license: id, why: `no ${what} recorded` });
      else if (!ok(id)) problems.push({ component: img.reference, license: id, why: `${what} ${id} is not in bom/allowed-licenses.json` });
    }
  }
  for (const c of npm) {
    if (c.licenses.length === 0) problems.push({ component: `${c.name}@${c.version}`, license: undefined, why: 'no licence known' });
    else if (!c.licenses.some(ok)) problems.push({ component: `${c.name}@${c.version}`, license: c.licenses.join(' / '), why: 'licence not in bom/allowed-licenses.json' });
  }
  return problems;
}

/** An SPDX id or a simple "(A OR B)" expression: allowed when any alternative is. */
export function licenseAllowed(expression: string, allowed: string[]): boolean {
  const alternatives = expression.replace(/[()]/g, '').split(/\s+OR\s+/);
  return alternatives.some((a) => allowed.includes(a.trim()));
}

export interface NpmComponent {
  readonly name: string;
  readonly version: string;
  readonly licenses: string[];
  readonly purl?: string;
}

/** The npm components of a CycloneDX document from cyclonedx-npm, with their licences. */
export function npmComponents(cdx: K8sObject): NpmComponent[] {
  return (cdx.components ?? []).map((c: K8sObject) => ({
    name: c.group ? `${c.group}/${c.name}` : c.name,
    version: c.version,
    purl: c.purl,
    licenses: (c.licenses ?? []).map((l: K8sObject) => l.expression ?? l.license?.id ?? l.license?.name).filter(Boolean),
  }));
}

/** Adds the images to the npm document as container components, keeping its format. */
export function withImages(cdx: K8sObject, images: ImageUse[], catalogue: Record<string, ImageInfo>): K8sObject {
  const containers = images.map((img) => {
    const info = catalogue[img.repository];
    return {
      type: 'container',
      'bom-ref': `image:${img.reference}`,
      name: img.repository,
      version: img.tag ?? img.digest,
      ...(img.digest ? { hashes: [{ alg: 'SHA-256', content: img.digest.replace(/^sha256:/, '') }] } : {}),
      ...(info ? {
        description: `${info.name}: ${info.role}`,
        supplier: { name: info.owner },
        licenses: [{ license: { id: info.license } }],
        externalReferences: [
          { type: 'website', url: info.project },
          { type: 'vcs', url: info.source },
          { type: 'distribution', url: info.imageSource, comment: `image build files, ${info.imageLicense}` },
        ],
      } : {}),
      purl: `pkg:docker/${img.repository}${img.tag ? `@${img.tag}` : ''}${img.digest ? `?digest=${encodeURIComponent(img.digest)}` : ''}`,
      properties: img.usedBy.map((u) => ({ name: 'homecloud:usedBy', value: u })),
    };
  });
  return { ...cdx, components: [...containers, ...(cdx.components ?? [])] };
}

/** BOM.md: what runs on the PC, readable. */
export function renderBomMarkdown(images: ImageUse[], catalogue: Record<string, ImageInfo>, npm: NpmComponent[], problems: LicenseProblem[]): string {
  const lines = [
    '# homecloud bill of materials',
    '',
    'Generated by `npm run bom` from the synthesized manifests and the installed npm packages.',
    '',
    '## Container images (run on the PC by Docker Desktop)',
    '',
    '| image | component | owner | licence | image build files | source | used by |',
    '|---|---|---|---|---|---|---|',
    ...images.map((img) => {
      const i = catalogue[img.repository];
      const ref = img.digest ? `${img.reference}` : img.reference;
      return i
        ? `| \`${ref}\` | ${i.name} | ${i.owner} | ${i.license} | ${i.imageLicense} (${i.imageSource}) | ${i.source} | ${img.usedBy.join('; ')} |`
        : `| \`${ref}\` | **unknown** | | | | | ${img.usedBy.join('; ')} |`;
    }),
    '',
    'The images are built on Alpine Linux; its packages (busybox, musl, …) carry their own',
    'free-software licences, listed by the image build files linked above.',
    '',
    '## npm packages (run by the client and by synth)',
    '',
    `${npm.length} packages. By licence: ${Object.entries(npm.reduce<Record<string, number>>((acc, c) => {
      const k = c.licenses.join(' / ') || 'unknown';
      acc[k] = (acc[k] ?? 0) + 1;
      return acc;
    }, {})).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
    '',
    '| package | version | licence |',
    '|---|---|---|',
    ...npm.slice().sort((a, b) => a.name.localeCompare(b.name)).map((c) => `| ${c.name} | ${c.version} | ${c.licenses.join(' / ') || '**unknown**'} |`),
    '',
    '## Problems',
    '',
    ...(problems.length ? problems.map((p) => `- ${p.component}: ${p.why}`) : ['None: every component has a known, allowed licence.']),
    '',
  ];
  return lines.join('\n');
}
