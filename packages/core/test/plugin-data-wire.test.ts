import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodePluginDataUpdate, encodePluginDataUpdate, type PluginDataUpdate } from '../src/teleport/plugin-data-wire.js';
import { PROTO_DIR } from '../src/teleport/proto.js';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : PROTO_DIR + target);
root.loadSync(['teleport/legacy/client/proto/authservice.proto'], { keepCase: true });
const type = root.lookupType('types.PluginDataUpdateParams');

const viaProtobufjs = (p: PluginDataUpdate) => Buffer.from(type.encode(type.fromObject(p)).finish());
const decoded = (bytes: Buffer) => type.toObject(type.decode(bytes), { defaults: true }) as PluginDataUpdate;

const cases: Array<[string, PluginDataUpdate]> = [
  ['a claim with empty expectations', {
    Kind: 'access_request', Resource: '0196f7a4-1b1e-7c3a-9d2e-5f1c8a2b3c4d', Plugin: 'slack',
    Set: { user: 'alice@example.com', roles: 'editor,auditor', request_reason: 'deploy <b>now</b> & then', claimed_by: 'host-1' },
    Expect: { user: '', roles: '', messages: '', resolution: '' },
  }],
  ['empty strings and maps', { Kind: '', Resource: '', Plugin: '', Set: {}, Expect: { '': '' } }],
  ['long ASCII strings (lengths of two and three varint bytes)', {
    Kind: 'access_request', Resource: 'r'.repeat(130), Plugin: 'mattermost',
    Set: { messages: 'C0123/1700000000.000100,'.repeat(900), request_reason: 'x'.repeat(127) },
    Expect: { resources: 'z'.repeat(128), x: 'w'.repeat(16_384) },
  }],
  ['2-, 3- and 4-byte characters', {
    Kind: 'access_request', Resource: 'r', Plugin: 'msteams',
    Set: { request_reason: 'café — 접근 요청 🚀 ok', user: 'ü' }, Expect: { request_reason: '🚀' },
  }],
  ['strings past the native threshold and multi-byte lengths', {
    Kind: 'access_request', Resource: 'x'.repeat(200), Plugin: 'discord',
    Set: { messages: 'C0123/1700000000.000100,'.repeat(900), request_reason: 'é'.repeat(63), logins_by_role: '🚀'.repeat(40) },
    Expect: { messages: 'y'.repeat(127), resources: 'z'.repeat(128), x: 'w'.repeat(16_384) },
  }],
];

describe('PluginDataUpdateParams encoder', () => {
  for (const [name, params] of cases) {
    it(`writes the bytes protobufjs writes: ${name}`, () => {
      const ours = encodePluginDataUpdate(params);
      expect(ours.equals(viaProtobufjs(params))).toBe(true);
      expect(decoded(ours)).toEqual({ ...params });
      expect(decodePluginDataUpdate(viaProtobufjs(params))).toEqual(params);
    });
  }

  it('decodes what proto-loader decodes: zero values, unknown fields skipped, truncation refused', () => {
    expect(decodePluginDataUpdate(Buffer.alloc(0))).toEqual({ Kind: '', Resource: '', Plugin: '', Set: {}, Expect: {} });
    const bytes = viaProtobufjs({ Kind: 'access_request', Resource: 'r', Plugin: 'slack', Set: { a: 'b' }, Expect: { c: '' } });
    // Field 9 as a varint and field 10 length-delimited, as a newer client might add.
    const withUnknown = Buffer.concat([Buffer.from([0x48, 0x96, 0x01, 0x52, 0x02, 0x68, 0x69]), bytes]);
    expect(decodePluginDataUpdate(withUnknown)).toEqual(decoded(withUnknown));
    expect(() => decodePluginDataUpdate(bytes.subarray(0, bytes.length - 1))).toThrow(RangeError);
  });

  it('writes a lone surrogate as U+FFFD, as Buffer does (never a length that does not match)', () => {
    const params: PluginDataUpdate = { Kind: 'k', Resource: 'r', Plugin: 'p', Set: { request_reason: 'a\ud800b' }, Expect: {} };
    expect(decoded(encodePluginDataUpdate(params)).Set.request_reason).toBe('a\ufffdb');
  });
});
