/**
 * The generic drug an NHSA drug code names: `X` + 5-character class + 4-character generic name;
 * form, spec and maker follow. Two codes with the same generic are the same drug for supply.
 */
export const genericOf = (code: string): string => code.slice(0, 10);
