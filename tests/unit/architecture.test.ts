import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering the code promises: infra → functions → stages → core, adapters beside. Read from
 * the import statements themselves, so a new edge from the core to DynamoDB, SQS or HTTP fails here
 * rather than in a reviewer's head.
 */
const ROOT = resolve(import.meta.dirname, '../..');

/** Every .ts file below `dir` (relative to the repository root). */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** What `file` imports: package names as written, project files as paths from the root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map(
    (m) => m[1] as string,
  );
  const dynamic = [...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] as string);
  return [...specifiers, ...dynamic].map((s) =>
    s.startsWith('.') ? relative(ROOT, resolve(ROOT, file, '..', s)) : s,
  );
}

/** Adapters: the stores, the local stand-ins, the HTTP API, Lambda handlers, the stack, AWS clients. */
const ADAPTERS = ['src/stores/', 'src/local/', 'src/api/', 'functions/', 'infra/'];
const AWS_PACKAGES = ['@aws-sdk/', 'aws-cdk-lib', '@aws-lambda-powertools/', '@middy/'];

function edgesTo(dirs: readonly string[], targets: readonly string[]): string[] {
  return dirs.flatMap((dir) =>
    sources(dir).flatMap((file) =>
      importsOf(file)
        .filter((target) => targets.some((t) => target.startsWith(t)))
        .map((target) => `${file} → ${target}`),
    ),
  );
}

describe('the layering', () => {
  it('finds the imports it checks (a file the reader cannot parse would pass any rule)', () => {
    expect(importsOf('src/stores/dynamo.ts')).toContain('@aws-sdk/lib-dynamodb');
    expect(importsOf('src/post/map.ts')).toContain('src/rules/screen.ts');
  });

  it('keeps the rules core free of adapters and AWS: it is a pure function of rules, catalogue and facts', () => {
    expect(edgesTo(['src/rules', 'src/history', 'src/catalogue'], [...ADAPTERS, ...AWS_PACKAGES])).toEqual(
      [],
    );
  });

  it('keeps the stages free of adapters: the pipeline and the post-event stage reach stores through ports', () => {
    expect(edgesTo(['src/pipeline', 'src/post'], [...ADAPTERS, ...AWS_PACKAGES])).toEqual([]);
  });

  it('keeps the core out of the stages: the rules core imports neither the pipeline nor the post-event stage', () => {
    expect(edgesTo(['src/rules'], ['src/pipeline/', 'src/post/'])).toEqual([]);
  });
});
