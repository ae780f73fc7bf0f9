import type { ItemCategory, VisitType } from '../contracts/claim.ts';
import { hash32 } from './random.ts';

/**
 * The fixed world the generator draws from: hospitals, and the ordinary items every hospital bills
 * that the NHSA knowledge points say nothing about (consultation, bed, nursing, routine tests,
 * consumables, common TCM pieces). Restricted items come from the reference catalogue instead.
 * Codes here are shaped like NHSA codes but chosen outside the catalogue (a unit test checks it).
 */

export interface HospitalProfile {
  hospitalId: string;
  level: 1 | 2 | 3;
  region: string;
  internet: boolean;
  doctors: number;
}

export const HOSPITALS: readonly HospitalProfile[] = [
  { hospitalId: 'H3001', level: 3, region: '120101', internet: false, doctors: 8 },
  { hospitalId: 'H3002', level: 3, region: '120103', internet: false, doctors: 8 },
  { hospitalId: 'H3003', level: 3, region: '120104', internet: false, doctors: 6 },
  { hospitalId: 'H2001', level: 2, region: '120105', internet: false, doctors: 5 },
  { hospitalId: 'H2002', level: 2, region: '120106', internet: false, doctors: 5 },
  { hospitalId: 'H2003', level: 2, region: '120110', internet: false, doctors: 4 },
  { hospitalId: 'H1001', level: 1, region: '120111', internet: false, doctors: 3 },
  { hospitalId: 'H1002', level: 1, region: '120112', internet: false, doctors: 3 },
  { hospitalId: 'H1003', level: 1, region: '120113', internet: false, doctors: 2 },
  { hospitalId: 'HN001', level: 2, region: '120101', internet: true, doctors: 4 },
];

export interface OrdinaryItem {
  code: string;
  name: string;
  category: ItemCategory;
  unitPrice: number;
}

/** What a visit bills besides drugs. */
export const ORDINARY = {
  outpatientConsultation: {
    code: '001901000010000',
    name: '门诊诊查费(普通)',
    category: 'service',
    unitPrice: 10,
  },
  emergencyConsultation: {
    code: '001901000020000',
    name: '急诊诊查费(普通)',
    category: 'service',
    unitPrice: 15,
  },
  internetConsultation: {
    code: '001901000030000',
    name: '互联网复诊诊查费',
    category: 'service',
    unitPrice: 10,
  },
  bed: { code: '001902000010000', name: '普通病房床位费', category: 'service', unitPrice: 45 },
  wardRound: { code: '001902000020000', name: '住院诊查费', category: 'service', unitPrice: 20 },
  nursing: { code: '001902000030000', name: '二级护理', category: 'service', unitPrice: 28 },
  infusion: { code: '001903000010000', name: '静脉输液(首组)', category: 'service', unitPrice: 12 },
  injection: { code: '001903000020000', name: '肌肉注射', category: 'service', unitPrice: 4 },
  dressing: { code: '001903000030000', name: '换药(中)', category: 'service', unitPrice: 25 },
} as const satisfies Record<string, OrdinaryItem>;

export const ORDINARY_TESTS: readonly OrdinaryItem[] = [
  { code: '001904000010000', name: '血细胞分析(血常规)', category: 'service', unitPrice: 20 },
  { code: '001904000020000', name: '尿液分析(尿常规)', category: 'service', unitPrice: 10 },
  { code: '001904000030000', name: '肝功能检测', category: 'service', unitPrice: 60 },
  { code: '001904000040000', name: '肾功能检测', category: 'service', unitPrice: 45 },
  { code: '001904000050000', name: '常规心电图检查', category: 'service', unitPrice: 25 },
  { code: '001904000060000', name: '胸部X线摄影', category: 'service', unitPrice: 70 },
  { code: '001904000070000', name: '腹部B超检查', category: 'service', unitPrice: 90 },
  { code: '001904000080000', name: 'C反应蛋白测定', category: 'service', unitPrice: 30 },
];

export const ORDINARY_CONSUMABLES: readonly OrdinaryItem[] = [
  { code: 'C90010000001', name: '一次性使用输液器', category: 'consumable', unitPrice: 3.5 },
  { code: 'C90010000002', name: '一次性使用无菌注射器', category: 'consumable', unitPrice: 0.8 },
  { code: 'C90010000003', name: '医用纱布敷料', category: 'consumable', unitPrice: 6 },
  { code: 'C90010000004', name: '静脉留置针', category: 'consumable', unitPrice: 18 },
];

/** Common pieces, payable alone and in compound prescriptions. */
export const ORDINARY_TCM: readonly OrdinaryItem[] = [
  { code: 'T900100001', name: '黄芪', category: 'tcm-herbal', unitPrice: 0.3 },
  { code: 'T900100002', name: '当归', category: 'tcm-herbal', unitPrice: 0.5 },
  { code: 'T900100003', name: '党参', category: 'tcm-herbal', unitPrice: 0.6 },
  { code: 'T900100004', name: '白术', category: 'tcm-herbal', unitPrice: 0.4 },
  { code: 'T900100005', name: '茯苓', category: 'tcm-herbal', unitPrice: 0.3 },
  { code: 'T900100006', name: '甘草', category: 'tcm-herbal', unitPrice: 0.2 },
  { code: 'T900100007', name: '川芎', category: 'tcm-herbal', unitPrice: 0.4 },
  { code: 'T900100008', name: '白芍', category: 'tcm-herbal', unitPrice: 0.3 },
  { code: 'T900100009', name: '熟地黄', category: 'tcm-herbal', unitPrice: 0.35 },
  { code: 'T900100010', name: '陈皮', category: 'tcm-herbal', unitPrice: 0.2 },
  { code: 'T900100011', name: '柴胡', category: 'tcm-herbal', unitPrice: 0.5 },
  { code: 'T900100012', name: '法半夏', category: 'tcm-herbal', unitPrice: 0.6 },
];

/**
 * Pieces the background never bills: each conflicts (十八反) with an ordinary piece — 海藻 and
 * 甘遂 with 甘草, 制川乌 with 法半夏, 藜芦 with 白芍 — for the 配伍禁忌 injector.
 */
export const INCOMPATIBLE_TCM: readonly (OrdinaryItem & { with: string })[] = [
  { code: 'T900100013', name: '海藻', category: 'tcm-herbal', unitPrice: 0.4, with: '甘草' },
  { code: 'T900100014', name: '醋甘遂', category: 'tcm-herbal', unitPrice: 1.2, with: '甘草' },
  { code: 'T900100015', name: '制川乌', category: 'tcm-herbal', unitPrice: 0.9, with: '法半夏' },
  { code: 'T900100016', name: '藜芦', category: 'tcm-herbal', unitPrice: 0.8, with: '白芍' },
];

/** Every ordinary item, for the check that none collides with a catalogue code. */
export const ALL_ORDINARY: readonly OrdinaryItem[] = [
  ...Object.values(ORDINARY),
  ...ORDINARY_TESTS,
  ...ORDINARY_CONSUMABLES,
  ...ORDINARY_TCM,
  ...INCOMPATIBLE_TCM,
];

/** ICD-10 (national clinical edition) diagnoses by department. */
export const DIAGNOSES: Readonly<Record<string, readonly string[]>> = {
  internal: ['E11.900', 'I10.x00', 'I25.103', 'K29.700', 'J18.900', 'E78.500'],
  general: ['J06.900', 'J20.900', 'K52.900', 'R50.900', 'M54.500'],
  pediatrics: ['J06.900', 'J18.900', 'A09.900', 'J45.900'],
  gynecology: ['N76.000', 'N73.900', 'O80.000', 'N92.000'],
  urology: ['N40.x00', 'N41.900', 'N39.000'],
  orthopedics: ['S82.200', 'M17.900', 'S62.600', 'M48.000'],
  oncology: ['C50.900', 'C34.900', 'C18.900', 'C16.900'],
  tcm: ['R51.x00', 'K30.x00', 'G47.000', 'M54.500'],
};

/**
 * ICD-9-CM-3 procedures of ordinary stays by department, for the settlement list's `procedures`;
 * the background keeps only those the patient's sex fits (rules/reference/procedure-edits.json).
 */
export const PROCEDURES: Readonly<Record<string, readonly string[]>> = {
  internal: ['99.1800', '88.7201', '45.1300'],
  general: ['86.2200', '88.0100'],
  gynecology: ['68.4901', '69.0900', '74.1x00', '65.2500'],
  urology: ['60.2900', '57.3200', '62.4100'],
  orthopedics: ['79.3600', '81.5400'],
  oncology: ['99.2500', '92.2400'],
};

export const VISIT_MIX: readonly (readonly [Exclude<VisitType, 'internet'>, number])[] = [
  ['outpatient', 60],
  ['emergency', 8],
  ['pharmacy', 14],
  ['inpatient', 18],
];

export const round2 = (n: number): number => Math.round(n * 100) / 100;

export function categoryOf(code: string): ItemCategory {
  if (/^[XZ]/.test(code)) return 'drug';
  if (code.startsWith('T')) return 'tcm-herbal';
  if (code.startsWith('C')) return 'consumable';
  return 'service';
}

const PRICE_RANGE: Record<ItemCategory, [number, number]> = {
  drug: [0.5, 180],
  'tcm-herbal': [0.2, 4],
  service: [8, 360],
  consumable: [1, 60],
};

/** A catalogue code's unit price: stable per code, so every stream bills it the same. */
export function priceOf(code: string, category: ItemCategory): number {
  const [min, max] = PRICE_RANGE[category];
  return round2(min + ((hash32(code) % 10_000) / 10_000) * (max - min));
}
