/** `npm run docs:contracts`: regenerate docs/contracts.md from the zod contracts. */
import { writeFileSync } from 'node:fs';
import { CONTRACTS_DOC, contractsDocument } from './document.ts';

writeFileSync(CONTRACTS_DOC, contractsDocument());
process.stdout.write(`written ${CONTRACTS_DOC}\n`);
