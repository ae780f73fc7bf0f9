import type { FlagView } from './contracts.ts';

/** The export's columns: Chinese heading with the field name beside it, for auditors and their spreadsheets. */
const COLUMNS: [string, (f: FlagView) => unknown][] = [
  ['标识 flagId', (f) => f.flagId],
  ['状态 status', (f) => f.statusLabel],
  ['医院 hospitalId', (f) => f.hospitalId],
  ['医生 doctorId', (f) => f.doctorId],
  ['结算单 claimId', (f) => f.claimId],
  ['规则 ruleId', (f) => f.ruleId],
  ['版本 ruleVersion', (f) => f.ruleVersion],
  ['规则类别 ruleClass', (f) => f.basis.ruleClass],
  ['依据编码 basisCode', (f) => f.basis.code],
  ['严重程度 severity', (f) => f.severity],
  ['结论 result', (f) => f.result],
  ['阶段 stage', (f) => f.stage],
  ['涉及金额 amountAtRisk', (f) => f.amountAtRisk.toFixed(2)],
  ['创建时间 createdAt', (f) => f.createdAt],
  ['期限 dueAt', (f) => f.dueAt],
  ['逾期 overdue', (f) => (f.overdue ? '是' : '否')],
  ['说明 message', (f) => f.message],
];

/** RFC 4180 quoting; a leading =, +, - or @ is prefixed so a spreadsheet never runs a cell as a formula. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (/^[=+\-@]/.test(text) && !/^-?\d/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_HEADER = `${COLUMNS.map(([name]) => cell(name)).join(',')}\r\n`;

export const toCsvRow = (flag: FlagView): string =>
  `${COLUMNS.map(([, get]) => cell(get(flag))).join(',')}\r\n`;
