/** Base of the local stack's errors (emulators, provisioning, the poller). */
export class LocalServiceError extends Error {
  override readonly name: string = 'LocalServiceError';
}
