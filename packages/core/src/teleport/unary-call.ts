/**
 * One unary gRPC call made on the channel directly. grpc-js's `Client` method wraps each call in
 * an interceptor chain, an event emitter and a stack trace taken for errors we replace with our
 * own; on this path (two calls per announcement) that was ~5% of the plugin's CPU when catching up
 * on a backlog. `Channel.createCall` is the public interface those wrappers sit on, and the
 * protocol below is theirs for a unary method: start, read, send, half-close.
 */
import * as grpc from '@grpc/grpc-js';

export interface UnaryMethod<Req, Res> {
  path: string;
  serialize(request: Req): Buffer;
  deserialize(bytes: Buffer): Res;
}

/** A failed call's status as an Error, as grpc-js reports it (`code`, `details`, `metadata`). */
function statusError(status: grpc.StatusObject): grpc.ServiceError {
  const name = grpc.status[status.code] ?? String(status.code);
  return Object.assign(new Error(`${status.code} ${name}: ${status.details}`), status);
}

/** Resolves with the response, rejects with a `grpc.ServiceError`; `signal` cancels the call. */
export function unaryCall<Req, Res>(channel: grpc.Channel, method: UnaryMethod<Req, Res>, request: Req, deadline: Date, signal?: AbortSignal): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    let bytes: Buffer;
    try {
      bytes = method.serialize(request);
    } catch (err) {
      reject(statusError({ code: grpc.status.INTERNAL, details: `Request message serialization failure: ${(err as Error)?.message}`, metadata: new grpc.Metadata() }));
      return;
    }
    const call = channel.createCall(method.path, deadline, undefined, null, undefined);
    const abort = () => call.cancelWithStatus(grpc.status.CANCELLED, 'Cancelled on client');
    let response: Buffer | undefined;
    call.start(new grpc.Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage(message: Buffer) {
        if (response !== undefined) call.cancelWithStatus(grpc.status.UNIMPLEMENTED, 'Too many responses received');
        response = message;
      },
      onReceiveStatus(status: grpc.StatusObject) {
        signal?.removeEventListener('abort', abort);
        if (status.code !== grpc.status.OK) return reject(statusError(status));
        if (response === undefined) return reject(statusError({ ...status, code: grpc.status.UNIMPLEMENTED, details: 'No message received' }));
        try {
          resolve(method.deserialize(response));
        } catch (err) {
          reject(statusError({ ...status, code: grpc.status.INTERNAL, details: `Response message parsing error: ${(err as Error)?.message}` }));
        }
      },
    });
    call.startRead();
    call.sendMessageWithContext({}, bytes);
    call.halfClose();
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}
