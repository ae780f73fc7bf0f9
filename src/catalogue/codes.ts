/**
 * The generic drug an NHSA drug code names: `X` + 5-character class + 4-character generic name;
 * form, spec and maker follow. Two codes with the same generic are the same drug for supply.
 */
export const genericOf = (code: string): string => code.slice(0, 10);

/**
 * The pharmacological subgroup of a western drug's NHSA code (医保药品分类与代码): the class after
 * `X` follows the WHO ATC system, whose third level (one letter, two digits, one letter: A10B,
 * blood glucose lowering drugs excluding insulins) is the pharmacological subgroup; the fifth
 * character is the chemical subgroup. Chinese patent drugs (`Z`) are classed by efficacy, not
 * ATC, and have none.
 */
export const pharmacologicalSubgroupOf = (code: string): string | undefined =>
  /^X[A-Z]\d\d[A-Z]/.test(code) ? code.slice(1, 5) : undefined;

/**
 * The item of 《全国医疗服务价格项目规范》 a 15-digit national service code (医保医疗服务项目分类与代码)
 * bills: the 9 digits after the leading `00`; the last 4 tell its variants apart (阑尾切除术(单纯性),
 * 阑尾切除术(化脓性) are one surgery, 331003022).
 */
export const specItemOf = (code: string): string => code.slice(2, 11);
