import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { serviceSpan } from '../contracts/claim.ts';
import { loadAuditCore } from '../post/audit.ts';
import { formatScorecard } from '../post/scorecard.ts';
import type { TableName } from '../resources.ts';
import { DEFAULT_SEGMENTS, InMemoryPartialStore, runAuditJob } from '../stores/audit-job.ts';
import { readPeriodScores } from '../stores/post-event.ts';
import { localClientConfig } from './emulators.ts';

/** The month most of these claims' first service dates fall in (the demo's period). */
export function busiestMonth(claims: readonly { items: readonly { serviceDate: string }[] }[]): string {
  const counts = new Map<string, number>();
  for (const c of claims) {
    const month = serviceSpan(c)[0].slice(0, 7);
    counts.set(month, (counts.get(month) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || b[0].localeCompare(a[0]))[0]?.[0] ?? '';
}

/**
 * `npm start`'s post-event audit: the audit job over the local claims table (the same map and
 * reduce as the audit function, partials in memory), then the top flags and the scorecard.
 */
export async function runLocalAudit(options: {
  dynamodbEndpoint: string;
  tables: Record<TableName, string>;
  period: string;
  print: (line?: string) => void;
}): Promise<void> {
  const { print, period, tables } = options;
  const client = new DynamoDBClient(localClientConfig(options.dynamodbEndpoint));
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  try {
    const started = performance.now();
    print(
      `\npost-event audit of ${period}: ${DEFAULT_SEGMENTS} scan segments of ${tables.claims} → map → reduce…`,
    );
    const out = await runAuditJob(period, DEFAULT_SEGMENTS, {
      core: loadAuditCore(),
      documents,
      tables: {
        claims: tables.claims,
        decisions: tables.decisions,
        flags: tables.flags,
        scores: tables.scores,
      },
      partials: new InMemoryPartialStore(),
      now: () => new Date(),
    });
    print(
      `audited ${out.claims} claims in ${((performance.now() - started) / 1000).toFixed(1)} s: ${out.claimFlagsWritten} new claim flags, ${out.subjectFlagsWritten} hospital/doctor flags, ${out.scores} scores written to ${tables.scores}`,
    );
    const { Items = [] } = await documents.send(
      new ScanCommand({
        TableName: tables.flags,
        FilterExpression: 'stage = :post',
        ExpressionAttributeValues: { ':post': 'post' },
      }),
    );
    const top = Items.sort((a, b) => Number(b.amountAtRisk) - Number(a.amountAtRisk)).slice(0, 8);
    if (top.length) print('top post-event flags by amount at risk:');
    for (const f of top)
      print(
        `  ${String(f.basis?.ruleClass ?? f.ruleId).padEnd(14)} ${Number(f.amountAtRisk).toFixed(2).padStart(12)} 元  ${String(f.message)}`,
      );
    const scores = await readPeriodScores(documents, tables.scores, period);
    if (scores.length) print(formatScorecard(scores, period, 10));
  } finally {
    client.destroy();
  }
}
