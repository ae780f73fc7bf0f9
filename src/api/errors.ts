/** Base of the pre-event API's errors: problems answered to a caller, and keys files that fail validation. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
}
