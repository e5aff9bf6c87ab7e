// PLACEHOLDER owned by H-engine: replaced by the real engine (watcher → routing → state → messenger).
import type { ChannelDefinition } from './channel.js';
import type { PluginConfig } from './config-types.js';
import type { Plugin, PluginDeps } from './plugin-types.js';

export function createPlugin<Section>(_channel: ChannelDefinition<Section>, _config: PluginConfig<Section>, _deps: PluginDeps = {}): Plugin {
  throw new Error('createPlugin: not implemented yet');
}
