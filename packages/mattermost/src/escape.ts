/**
 * Escaping of requester-controlled text for Mattermost markdown.
 *
 * Mattermost notifies on `@channel`, `@all`, `@here` and `@username` written at the start of a
 * word; a word joiner (U+2060, invisible) after such an `@` keeps the text readable and stops
 * the mention, in plain text and in code alike. Outside code, markdown punctuation is
 * backslash-escaped (no bold, links, images, headings or tables from a username) and bare
 * `https://` / `www.` auto-links are broken the same way.
 */

// An `@` that starts a word: not after a word character, a dot, `+` or `-` (so e@x.com stays).
const MENTION = /(?<![\w.+-])@(?=[\p{L}\p{N}_.-])/gu;
const MARKDOWN = /[\\`*_~[\]()<>#|!]/g;
const AUTOLINK = /(?<=[A-Za-z0-9])(:\/\/)|\b(www)\./gi;

/** Stops `@mentions` without changing what a reader sees. Safe inside code. */
export function defuseMentions(text: string): string {
  return text.replace(MENTION, '@\u2060');
}

/** Makes text safe as plain markdown on one line: escaped markup, no mentions, no auto-links. */
export function escapeMarkdown(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  const escaped = oneLine.replace(MARKDOWN, (c) => `\\${c}`).replace(AUTOLINK, (_m, scheme, www) => (scheme ? '\\://' : `${www}\\.`));
  return defuseMentions(escaped);
}
