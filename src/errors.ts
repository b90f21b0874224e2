/** Errors with a stable `code` that clients can branch on; mapped to problem+json by src/http/problemHandler. */
export class HeraldError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 500,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A failure the operator must fix (configuration, keys), not the sender's data: a delivery that meets one is
 * logged loudly and retried, never failed for good while nobody looks.
 */
export class OperatorError extends HeraldError {
  constructor(code: string, message: string) {
    super(code, message, 500);
  }
}

export class NotFoundError extends HeraldError {
  constructor(what: string, id: string) {
    super('not_found', `${what} "${id}" does not exist`, 404);
  }
}

export class ConflictError extends HeraldError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

export class ValidationError extends HeraldError {
  constructor(code: string, message: string, details?: unknown) {
    super(code, message, 422, details);
  }
}

export class UnauthorizedError extends HeraldError {
  constructor(message = 'a valid bearer token is required', details?: unknown) {
    super('unauthorized', message, 401, details);
  }
}

export class ForbiddenError extends HeraldError {
  constructor(message: string) {
    super('forbidden', message, 403);
  }
}

/** A known key without the scope a route needs: a 403 that names the scope, so the fix is obvious. */
export class InsufficientScopeError extends HeraldError {
  constructor(required: string, held: readonly string[]) {
    super(
      'insufficient_scope',
      `this route needs an API key with the "${required}" scope (or "admin"); this key has: ${held.join(', ')}`,
      403,
      { requiredScope: required, scopes: held },
    );
  }
}
