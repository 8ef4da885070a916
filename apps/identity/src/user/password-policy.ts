import { PASSWORD_MAX, PASSWORD_MIN } from '@app/contracts';

/**
 * API.md password rules. Returns why the password is refused, or undefined when it is acceptable.
 * `current` is the password being replaced (the temporary one at first login), when the caller knows it.
 */
export function passwordProblem(password: string, user: { email?: string; username?: string }, current?: string): string | undefined {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  const lower = password.toLowerCase();
  if (user.email && lower === user.email.toLowerCase()) return 'must not be the email address';
  if (user.username && lower === user.username.toLowerCase()) return 'must not be the username';
  if (current !== undefined && password === current) return 'must differ from the current (temporary) password';
  return undefined;
}
