/**
 * Every failure the user can meet, turned into one sentence that says what to do. Pool
 * errors arrive from Amplify with Cognito's exception name; API errors carry the REST
 * API's `code`.
 */

/** The session is gone (signed out elsewhere, refresh token expired): sign in again. */
export class SessionExpired extends Error {
  constructor() {
    super("Your session has expired. Please sign in again.");
    this.name = "SessionExpired";
  }
}

/** An answer of the REST API other than success, with its status and `code`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const POOL_MESSAGES: Record<string, string> = {
  NotAuthorizedException: "Incorrect email or password.",
  UserNotFoundException: "Incorrect email or password.",
  UsernameExistsException: "An account with this email already exists. Sign in instead.",
  InvalidPasswordException:
    "The password does not meet the policy: at least 10 characters with upper-case and lower-case letters and a number.",
  CodeMismatchException: "That confirmation code is not correct. Check the code and try again.",
  ExpiredCodeException: "That confirmation code has expired. Ask for a new one.",
  LimitExceededException: "Too many attempts. Wait a while, then try again.",
  TooManyRequestsException: "Too many requests. Wait a moment, then try again.",
  TooManyFailedAttemptsException: "Too many failed attempts. Wait a while, then try again.",
  PasswordResetRequiredException: "You need to reset your password. Use “Forgot password?”.",
  UserNotConfirmedException: "Confirm your account with the code we sent you.",
  NetworkError: "Cannot reach the server. Check your connection and try again.",
  EmptySignInUsername: "Enter your email.",
  EmptySignInPassword: "Enter your password.",
  EmptySignUpUsername: "Enter your email.",
  EmptySignUpPassword: "Enter a password.",
  EmptyConfirmSignUpCode: "Enter the confirmation code.",
  EmptyConfirmResetPasswordConfirmationCode: "Enter the confirmation code.",
  EmptyConfirmResetPasswordNewPassword: "Enter a new password.",
  EmptyResetPasswordUsername: "Enter your email.",
};

/** The sentence shown for any error thrown by Amplify, the API client or the browser. */
export function describe(error: unknown): string {
  if (error instanceof SessionExpired) return error.message;
  if (error instanceof ApiError) return apiMessage(error);
  if (error instanceof TypeError) {
    // fetch() rejects with a TypeError when the network or CORS fails.
    return "Cannot reach the server. Check your connection and try again.";
  }
  if (error instanceof Error) {
    if (error.name === "NotAuthorizedException") {
      // One exception, several causes; the pool's message tells them apart.
      if (/attempts exceeded/i.test(error.message)) return POOL_MESSAGES.TooManyFailedAttemptsException;
      if (/disabled/i.test(error.message)) return "This account is disabled. Contact your administrator.";
    }
    if (error.name in POOL_MESSAGES) {
      // The pool's own wording is precise for a password policy; keep it when there is one.
      if (error.name === "InvalidPasswordException" && error.message) {
        return `${POOL_MESSAGES[error.name]} (${error.message})`;
      }
      return POOL_MESSAGES[error.name];
    }
    if (error.name === "InvalidParameterException" && /'password'/.test(error.message)) {
      // Cognito checks the length of a password before its policy, with a terser message.
      return POOL_MESSAGES.InvalidPasswordException;
    }
    if (error.name === "InvalidParameterException" && error.message) return error.message;
    if (error.message) return error.message;
  }
  return "Something went wrong. Please try again.";
}

function apiMessage(error: ApiError): string {
  switch (error.status) {
    case 401:
      return new SessionExpired().message;
    case 403:
      return "You are not allowed to do this.";
    case 404:
      return "This no longer exists, or you are no longer a member. It may have been deleted elsewhere.";
    case 412:
      return "This task was changed elsewhere since you opened it.";
    case 413:
      return "That is too long. Shorten the title or description.";
    case 429:
      return "Too many requests. Wait a moment, then try again.";
    case 502:
    case 503:
    case 504:
      return "The service is busy right now. Please try again in a moment.";
  }
  if (error.status >= 500) return "The server had a problem. Please try again later.";
  return error.message || `The request failed (HTTP ${error.status}).`;
}
