import { benchRulesCore } from './rules-core.ts';

/** `npm run bench [-- rules]`: every benchmark, or the ones named. */
const wanted = new Set(process.argv.slice(2));
const all = wanted.size === 0;

if (all || wanted.has('rules')) await benchRulesCore();
