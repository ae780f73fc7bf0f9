/**
 * Bad arguments or input on a command line (`fundguard …`, `npm start -- …`): the command exits 2
 * with this message and its usage on stderr.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
