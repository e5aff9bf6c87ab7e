/**
 * How each Go plugin stores its sent messages in plugin data. A channel picks one through
 * `ChannelDefinition.pluginData.codec`; the names describe the format, not the channel.
 * Decoders accept the legacy layouts the Go plugins still read, and drop duplicates.
 */
import type { SentMessage, SentMessageCodec } from './channel.js';
import { goJsonString } from './plugin-data.js';

function dedupe(messages: SentMessage[]): SentMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => {
    const key = `${m.channelId}\u0000${m.messageId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const split = (value: string | undefined) => (value ? value.split(',') : []);

/**
 * `messages` = comma-joined `<channelID>/<messageID>` (slack, mattermost, discord). Entries
 * that do not have exactly two parts are skipped; the legacy pair `channel_id` + `timestamp`
 * reads as one message.
 */
export const channelMessageCodec: SentMessageCodec = {
  keys: ['messages'],
  encode(messages) {
    return { messages: messages.map((m) => `${m.channelId}/${m.messageId}`).join(',') };
  },
  decode(data) {
    const out: SentMessage[] = [];
    if (data.channel_id && data.timestamp) out.push({ channelId: data.channel_id, messageId: data.timestamp });
    for (const entry of split(data.messages)) {
      const parts = entry.split('/');
      if (parts.length === 2) out.push({ channelId: parts[0]!, messageId: parts[1]! });
    }
    return dedupe(out);
  },
};

/**
 * `messages` = comma-joined standard base64 of the JSON `{"id","ts","rid"}` (msteams). The Go
 * format stores no conversation id: decoding sets `channelId` to the raw recipient (`rid`), which
 * the messenger resolves again. Legacy entries `id/ts/rid` (not base64) are still read.
 */
export const encodedMessageCodec: SentMessageCodec = {
  keys: ['messages'],
  encode(messages) {
    const entries = messages.map((m) => {
      const json = `{"id":${goJsonString(m.messageId)},"ts":${goJsonString(m.sentAt ?? '')},"rid":${goJsonString(m.recipient ?? m.channelId)}}`;
      return Buffer.from(json, 'utf8').toString('base64');
    });
    return { messages: entries.join(',') };
  },
  decode(data) {
    const out: SentMessage[] = [];
    for (const entry of split(data.messages)) {
      const json = decodeStdBase64(entry);
      if (json === undefined) {
        const parts = entry.split('/');
        if (parts.length === 3) out.push(teamsMessage(parts[0]!, parts[1]!, parts[2]!));
        continue;
      }
      try {
        const v = JSON.parse(json) as { id?: unknown; ts?: unknown; rid?: unknown };
        out.push(teamsMessage(str(v.id), str(v.ts), str(v.rid)));
      } catch {
        // Go keeps going on a bad entry and reports it; an unreadable entry cannot be updated anyway.
      }
    }
    return dedupe(out);
  },
};

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const teamsMessage = (id: string, ts: string, rid: string): SentMessage => ({ channelId: rid, messageId: id, sentAt: ts, recipient: rid });

/** Strict standard base64 (padded), as Go's `base64.StdEncoding.DecodeString`; undefined if invalid. */
function decodeStdBase64(s: string): string | undefined {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64').toString('utf8');
}

/**
 * `email_threads` = comma-joined `<email>/<timestamp>/<messageID>` (email). Only entries with
 * exactly three parts are kept; the legacy pair `email` + `timestamp` reads as one thread with
 * no message id. `channelId` is the address, `sentAt` the timestamp.
 */
export const threadCodec: SentMessageCodec = {
  keys: ['email_threads'],
  encode(messages) {
    return { email_threads: messages.map((m) => `${m.channelId}/${m.sentAt ?? ''}/${m.messageId}`).join(',') };
  },
  decode(data) {
    const out: SentMessage[] = [];
    if (data.email && data.timestamp) out.push({ channelId: data.email, messageId: '', sentAt: data.timestamp });
    for (const entry of split(data.email_threads)) {
      const parts = entry.split('/');
      if (parts.length === 3) out.push({ channelId: parts[0]!, sentAt: parts[1]!, messageId: parts[2]! });
    }
    return dedupe(out);
  },
};
