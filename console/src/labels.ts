/** Chinese labels of the console, with English beside them where auditors need both. */
import { STATUS_LABELS } from '../../src/review/states.ts';
import type { ReviewAction } from './api.ts';

export { STATUS_LABELS };

export const ACTION_LABELS: Record<ReviewAction, string> = {
  confirm: '确认违规',
  dismiss: '排除',
  escalate: '提交复审',
  appeal: '提出申诉',
  investigate: '调查核实',
  uphold: '驳回申诉（维持）',
  overturn: '申诉成立（撤销）',
};

export const SEVERITY_LABELS: Record<string, string> = { high: '高', medium: '中', low: '低' };
export const RESULT_LABELS: Record<string, string> = { violation: '明确违规', suspicious: '可疑' };
export const STAGE_LABELS: Record<string, string> = { pre: '事前', in: '事中', post: '事后' };
export const ROLE_LABELS: Record<string, string> = {
  auditor: '审核员',
  hospital: '医院',
  'rule-author': '规则维护员',
};

export const yuan = (n: number): string =>
  `${n.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} 元`;

export const time = (iso: string | undefined): string => (iso ? iso.slice(0, 16).replace('T', ' ') : '—');
