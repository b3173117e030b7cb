/** The API's error answers as exceptions with words for a person. */

/** An error answer of the API (`{statusCode, error, message, code}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For a 400 VALIDATION_ERROR: one sentence per field name. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  0: 'The server cannot be reached; check the connection and try again',
  401: 'Please sign in',
  403: 'You are not allowed to do that',
  404: 'Not found',
  413: 'The file is too large',
  415: 'This file type is not supported',
  429: 'Too many attempts; wait a moment and try again',
  502: 'The server is unavailable; try again in a moment',
  503: 'The server is unavailable; try again in a moment',
};

/** Turn a status and a response body (JSON or not) into an ApiError with words for a person. */
export function toApiError(status: number, bodyText: string): ApiError {
  try {
    const body = JSON.parse(bodyText) as { message?: unknown; code?: unknown; fields?: unknown };
    if (typeof body.message === 'string' && body.message)
      return new ApiError(
        status,
        typeof body.code === 'string' ? body.code : 'ERROR',
        body.message,
        body.fields && typeof body.fields === 'object' ? (body.fields as Record<string, string>) : {},
      );
  } catch {
    // Not JSON (a proxy's own page): fall back to words of our own.
  }
  return new ApiError(
    status,
    status === 0 ? 'NETWORK_ERROR' : `HTTP_${status}`,
    FALLBACK_MESSAGES[status] ?? `The request failed (HTTP ${status})`,
  );
}
