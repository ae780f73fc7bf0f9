import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { CursorSigner, cursorSecretFrom } from '../src/api/cursor.ts';
import { parseEnvironment, ReviewEnv } from '../src/config.ts';
import { loadCore } from '../src/core.ts';
import { s3ExportWriter } from '../src/review/export.ts';
import { createReviewHandler } from '../src/review/handler.ts';
import { byJwtClaims } from '../src/review/identity.ts';
import { loadReviewPolicy } from '../src/review/policy.ts';
import { ReviewService } from '../src/review/service.ts';
import { DynamoReviewStore } from '../src/review/store.ts';
import { documents } from './commons/clients.ts';
import { logger, metrics } from './commons/observability.ts';

const config = parseEnvironment(ReviewEnv);

/**
 * The review API behind API Gateway (HTTP API, payload v2). Every route sits behind the JWT
 * authorizer (infra/review.ts), which has verified the token; the handler reads the role from it.
 */
export const handler = middy(
  createReviewHandler({
    service: new ReviewService({
      store: new DynamoReviewStore(documents, {
        flags: config.FLAGS_TABLE,
        claims: config.CLAIMS_TABLE,
        scores: config.SCORES_TABLE,
      }),
      policy: loadReviewPolicy(),
      ruleSet: loadCore().ruleSet,
    }),
    authenticate: byJwtClaims(),
    cursors: new CursorSigner(cursorSecretFrom(config.CURSOR_SECRET)),
    logger,
    exports: s3ExportWriter(new S3Client({}), config.EXPORT_BUCKET),
  }),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
