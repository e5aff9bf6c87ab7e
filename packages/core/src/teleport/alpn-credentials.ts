/**
 * gRPC channel credentials that perform the TLS handshake themselves, so the ClientHello can
 * carry Teleport's routing ALPN (`teleport-auth@<hex(cluster)>.teleport.cluster.local`, then
 * `h2`) — stock grpc-js always offers only `h2`. Uses grpc-js internals (`_createSecureConnector`),
 * so @grpc/grpc-js is pinned exactly and `connect-paths.test.ts` checks the ALPN on the wire.
 * With a `tunnel`, the TLS runs inside what it returns (the connection upgrade).
 */
import * as grpc from '@grpc/grpc-js';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

type CreateConnector = grpc.ChannelCredentials['_createSecureConnector'];
type SecureConnector = ReturnType<CreateConnector>;

export class AlpnChannelCredentials extends grpc.ChannelCredentials {
  constructor(
    private readonly tlsOptions: tls.ConnectionOptions,
    private readonly callCredentials?: grpc.CallCredentials,
    private readonly tunnel?: (socket: Socket) => Promise<Duplex>,
  ) {
    super();
  }
  override compose(cc: grpc.CallCredentials): grpc.ChannelCredentials {
    return new AlpnChannelCredentials(this.tlsOptions, this.callCredentials ? this.callCredentials.compose(cc) : cc, this.tunnel);
  }
  _isSecure(): boolean {
    return true;
  }
  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }
  _createSecureConnector(...[, , callCredentials]: Parameters<CreateConnector>): SecureConnector {
    const cc = callCredentials ?? this.callCredentials ?? grpc.credentials.createEmpty();
    const options = this.tlsOptions;
    const tunnel = this.tunnel;
    return {
      connect: async (socket: Socket) => {
        const transport = tunnel ? await tunnel(socket) : socket;
        return new Promise((resolve, reject) => {
          const secure = tls.connect({ ...options, socket: transport }, () => {
            if (secure.authorized) resolve({ socket: secure as unknown as Socket, secure: true });
            else reject(secure.authorizationError ?? new Error('TLS authorization failed'));
          });
          secure.once('error', reject);
        });
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => cc,
      destroy: () => {},
    };
  }
}

/** `teleport-auth@<hex(cluster)>.teleport.cluster.local`: the Proxy routes it to Auth. */
export function authRouteAlpn(clusterName: string): string {
  return `teleport-auth@${Buffer.from(clusterName, 'utf8').toString('hex')}.teleport.cluster.local`;
}
