import { benchDynamoItems } from './dynamo-items.ts';
import { benchInProcess } from './in-process.ts';
import { benchPostEvent } from './post-event.ts';
import { benchPostEventDynamo } from './post-event-dynamo.ts';
import { benchPreEvent } from './pre-event.ts';
import { benchReview } from './review.ts';
import { benchRulesCore } from './rules-core.ts';

/** `npm run bench [-- rules in-process dynamo-items pre-event post-event post-event-dynamo review]`: every benchmark, or the ones named. */
const wanted = new Set(process.argv.slice(2));
const all = wanted.size === 0;

const rules = all || wanted.has('rules') ? await benchRulesCore() : undefined;
if (all || wanted.has('in-process')) await benchInProcess();
if (all || wanted.has('dynamo-items')) await benchDynamoItems();
if (all || wanted.has('pre-event')) await benchPreEvent();
if (all || wanted.has('post-event')) await benchPostEvent(rules?.wholePackCpuSeconds);
if (all || wanted.has('post-event-dynamo')) await benchPostEventDynamo();
if (all || wanted.has('review')) await benchReview();
