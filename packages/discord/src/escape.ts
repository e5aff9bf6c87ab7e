/**
 * Escaping of requester-controlled text for Discord markdown.
 *
 * Every message also carries `allowed_mentions: {parse: []}`, so nothing can notify anyone;
 * escaping keeps the text from *looking* like a mention or a link and from formatting the
 * message: markdown punctuation is backslash-escaped, `<@id>`/`<#id>`/`<@&id>` become plain
 * text (`\<`), `@everyone`/`@here` get a word joiner, and auto-links are broken.
 */
const MARKDOWN = /[\\`*_~[\]()<>#|>-]/g;
const BROADCAST = /(?<![\w.+-])@(everyone|here)\b/gi;
const AUTOLINK = /(?<=[A-Za-z0-9])(:\/\/)|\b(www)\./gi;

/** Makes text safe as inline Discord markdown on one line. */
export function escapeDiscord(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(MARKDOWN, (c) => `\\${c}`)
    .replace(AUTOLINK, (_m, scheme, www) => (scheme ? ':\\/\\/' : `${www}\\.`))
    .replace(BROADCAST, '@\u2060$1');
}

/** Inside a code block nothing renders; only the broadcast words are defused, for copy-paste. */
export function escapeDiscordCode(text: string): string {
  return text.replace(BROADCAST, '@\u2060$1');
}
