/** What a reader without the right to complete tasks sees in place of a task token. */
export const HIDDEN_TASK_TOKEN = '[task token hidden]';

/**
 * `value` with every occurrence of the tokens replaced by HIDDEN_TASK_TOKEN, also inside nested JSON strings:
 * tokens are base64url, so they appear verbatim in serialized JSON.
 */
export function hideTaskTokens<T>(value: T, tokens: readonly string[]): T {
  if (value === undefined || tokens.length === 0) return value;
  let text = JSON.stringify(value);
  for (const token of tokens) text = text.replaceAll(token, HIDDEN_TASK_TOKEN);
  return JSON.parse(text) as T;
}
