/**
 * Plugin data of sent posts: the shared `messages` key (`<channel id>/<post id>`, comma-joined)
 * that the Go daemon writes, also reading the single post the old standalone Mattermost plugin
 * stored as `channel_id` + `post_id` (`postID`), so its requests are still updated.
 */
import { type SentMessageCodec, channelMessageCodec } from '@tap/core';

export const mattermostMessageCodec: SentMessageCodec = {
  keys: channelMessageCodec.keys,
  encode: (messages) => channelMessageCodec.encode(messages),
  decode(data) {
    const messages = channelMessageCodec.decode(data);
    const legacyPost = data.post_id || data.postID;
    if (data.channel_id && legacyPost && !messages.some((m) => m.messageId === legacyPost)) {
      messages.unshift({ channelId: data.channel_id, messageId: legacyPost });
    }
    return messages;
  },
};
