import { addDays } from '../dates.ts';
import type { Subject } from './subjects.ts';

type Facts = { restriction: Record<string, unknown> | null; params: Record<string, unknown> };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * What the doctor can do instead, for the pre-event answer: the largest payable quantity, the
 * days left in a course, the earliest date a drug can be prescribed again. Only where the facts
 * give a concrete number; otherwise the message stands alone.
 */
export function suggestionFor(subject: Subject, facts: Facts): string | undefined {
  const f = subject.fact;
  const r = facts.restriction ?? {};
  switch (subject.kind) {
    case 'dailyQuantity': {
      const max = num(r.maxPerDay);
      return max === undefined
        ? undefined
        : `${f.name}每日最多支付${max}，请将${f.date}的数量改为不超过${max}`;
    }
    case 'course': {
      const max = num(r.maxDays);
      return max === undefined
        ? undefined
        : `${f.name}疗程最多支付${max}天，超出${f.firstDate}起第${max}天的部分请改为自费或停用`;
    }
    case 'historyCourse': {
      const left = num(f.daysLeft);
      return left === undefined ? undefined : `${f.name}本疗程尚可支付${left}天`;
    }
    case 'historySupply': {
      const previous = typeof f.previousDate === 'string' ? f.previousDate : undefined;
      const remaining = num(f.daysRemaining);
      const grace = num(facts.params.graceDays) ?? 0;
      const date = typeof f.serviceDate === 'string' ? f.serviceDate : undefined;
      if (!previous || remaining === undefined || !date) return undefined;
      return `前次（${previous}）所开药量尚余${remaining}天，最早可于${addDays(date, remaining - grace)}再次开具`;
    }
    case 'item': {
      const max = num(facts.params.maxDaysSupply);
      const days = num(f.daysSupply);
      const quantity = num(f.quantity);
      if (max === undefined || !days || quantity === undefined) return undefined;
      return `按每日用量计，最多可开${Math.floor((quantity * max) / days)}（${max}天用量）`;
    }
    default:
      return undefined;
  }
}
