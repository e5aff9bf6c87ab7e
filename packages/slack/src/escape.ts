/**
 * Escaping of requester-controlled text for Slack mrkdwn.
 *
 * Slack builds mentions and links only from `<…>` sequences (`<!channel>`, `<!here>`,
 * `<@U123>`, `<#C123>`, `<!subteam^S1>`, `<https://x|label>`), so escaping `&`, `<` and `>` as
 * entities makes every one of them plain text; Slack shows the entities as the original
 * characters, inside code too. A bare `@channel` only pings with `link_names`, which we never
 * set, but a word joiner after the `@` keeps it inert even if a client were to link it.
 */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
// Not after a word character, so addresses such as ops@here.com stay untouched.
const BROADCAST = /(?<![\w.+-])@(channel|here|everyone)\b/gi;

/** Makes text safe to place anywhere in a Slack mrkdwn string (plain text or code). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (c) => ENTITIES[c]!).replace(BROADCAST, '@\u2060$1');
}
