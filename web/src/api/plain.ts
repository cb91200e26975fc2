// The API's validation errors (FastAPI/pydantic: type, loc, ctx) told in plain words: never a
// regular expression or a library's own sentence.

export interface ValidationIssue {
  type?: string;
  loc?: unknown[];
  msg?: string;
  ctx?: Record<string, unknown>;
}

/** Whether ``v`` can be read as a validation issue (every field is optional; wrong types are not). */
export function isIssue(v: unknown): v is ValidationIssue {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o: Record<string, unknown> = { ...v };
  return (o.type === undefined || typeof o.type === "string") && (o.msg === undefined || typeof o.msg === "string")
    && (o.loc === undefined || Array.isArray(o.loc))
    && (o.ctx === undefined || (typeof o.ctx === "object" && o.ctx !== null && !Array.isArray(o.ctx)));
}

const FIELD_NAME: Record<string, string> = {
  email: "The e-mail address", password: "The password", new_password: "The new password",
  current_password: "The current password", invite: "The invite code", name: "The name",
  size: "The file's size", filename: "The file name", labels: "The labels",
};

export const EMAIL_HINT = "Enter an e-mail address like name@example.org.";

function fieldName(loc: unknown[] | undefined): string {
  const last = loc?.[loc.length - 1];
  if (typeof last !== "string" || last === "body") return "The request";
  return FIELD_NAME[last] ?? `The ${last.replace(/_/g, " ")}`;
}

/** One validation problem as a sentence. */
export function plainIssue(issue: ValidationIssue): string {
  const field = fieldName(issue.loc);
  const ctx = issue.ctx ?? {};
  const last = issue.loc?.[issue.loc.length - 1];
  switch (issue.type) {
    case "string_pattern_mismatch":
      return last === "email" ? EMAIL_HINT : `${field} contains characters that are not allowed.`;
    case "string_too_short":
      return Number(ctx.min_length) <= 1 ? `${field} is empty.`
        : `${field} needs at least ${String(ctx.min_length)} characters.`;
    case "string_too_long":
      return `${field} is too long: at most ${String(ctx.max_length)} characters.`;
    case "missing":
      return `${field} is missing.`;
    case "greater_than":
      return last === "size" && Number(ctx.gt) === 0 ? "The file is empty (0 bytes): choose the scan's file."
        : `${field} must be more than ${String(ctx.gt)}.`;
    case "greater_than_equal":
      return `${field} must be at least ${String(ctx.ge)}.`;
    case "less_than_equal":
      return `${field} must be at most ${String(ctx.le)}.`;
    default:
      return `${field} is not valid.`;
  }
}

/** Every problem once, in the order the server gave them. */
export function plainIssues(issues: ValidationIssue[]): string {
  return [...new Set(issues.map(plainIssue))].join(" ");
}

/** What is wrong with a sign-up or sign-in before it is sent; null when nothing. */
export function checkCredentials(email: string, password: string, signUp: boolean): string | null {
  if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) return EMAIL_HINT;
  if (!password) return "Enter your password.";
  if (signUp && password.length < 8) return "Choose a password of 8 characters or more.";
  return null;
}
