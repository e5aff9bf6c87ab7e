import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { PROTO_DIR } from '../src/teleport/proto.js';

// Field numbers the plugins depend on, as Teleport v18 defines them. A typo in proto/ would
// silently break interoperability with real clusters, so they are pinned here.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : PROTO_DIR + target);
root.loadSync(
  [
    'teleport/legacy/client/proto/authservice.proto',
    'teleport/accessmonitoringrules/v1/access_monitoring_rules.proto',
    'teleport/users/v1/users_service.proto',
  ],
  { keepCase: true },
);

const fieldIds = (type: string) =>
  Object.fromEntries(Object.values(root.lookupType(type).fields).map((f) => [f.name, f.id]));

describe('proto subset', () => {
  it('pins the access request fields', () => {
    expect(fieldIds('types.AccessRequestSpecV3')).toMatchObject({
      User: 1, Roles: 2, State: 3, Created: 4, Expires: 5, RequestReason: 6, ResolveReason: 7,
      SystemAnnotations: 9, Thresholds: 10, Reviews: 12, SuggestedReviewers: 13, RequestedResourceIDs: 14,
      MaxDuration: 17, SessionTTL: 18, accessList: 20, AssumeStartTime: 21, ResourceExpiry: 22, RequestKind: 24,
    });
    expect(fieldIds('types.AccessReview')).toMatchObject({ Author: 1, Roles: 2, ProposedState: 3, Reason: 4, Created: 5 });
    expect(root.lookupEnum('types.RequestState').values).toEqual({ NONE: 0, PENDING: 1, APPROVED: 2, DENIED: 3, PROMOTED: 4 });
  });

  it('pins the watch envelope and plugin data fields', () => {
    expect(fieldIds('proto.Event')).toEqual({ Type: 1, ResourceHeader: 2, AccessRequest: 14, WatchStatus: 43, AccessMonitoringRule: 54 });
    expect(fieldIds('proto.Watch')).toEqual({ Kinds: 1, AllowPartialSuccess: 2 });
    expect(fieldIds('types.PluginDataUpdateParams')).toEqual({ Kind: 1, Resource: 2, Plugin: 3, Set: 4, Expect: 5 });
    expect(fieldIds('proto.PingResponse')).toMatchObject({ ClusterName: 1, ServerVersion: 2, ServerFeatures: 3, ProxyPublicAddr: 4 });
    expect(fieldIds('proto.Features')).toMatchObject({ AdvancedAccessWorkflows: 7 });
  });

  it('encodes empty-string map values, which plugin-data Expect relies on', () => {
    const type = root.lookupType('types.PluginDataUpdateParams');
    const bytes = type.encode(type.fromObject({ Kind: 'access_request', Resource: 'r', Plugin: 'slack', Expect: { messages: '' } })).finish();
    const back = type.toObject(type.decode(bytes)) as { Expect: Record<string, string> };
    expect(back.Expect).toEqual({ messages: '' });
    // The entry (tag 0x2a = field 5, length-delimited) is really on the wire.
    expect([...bytes]).toContain(0x2a);
  });

  it('skips oneof members it does not know (a newer server sending another resource)', () => {
    // Event{Type: PUT, User (field 8): {}} — field 8 is not in our subset.
    const event = root.lookupType('proto.Event');
    const decoded = event.toObject(event.decode(Uint8Array.from([0x08, 0x01, 0x42, 0x00])), { enums: String, oneofs: true }) as Record<string, unknown>;
    expect(decoded.Type).toBe('PUT');
    expect(decoded.Resource).toBeUndefined();
  });
});
