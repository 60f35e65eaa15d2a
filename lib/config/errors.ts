/** An error whose message tells the user what to fix; printed without a stack trace. */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserFacingError';
  }
}
