// Messages between bench.mjs and its plugin process: JSON, one per line, over a pipe.

/** Calls `onMessage` with each JSON line read from `stream`. */
export function readMessages(stream, onMessage) {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      onMessage(JSON.parse(buffered.slice(0, at)));
      buffered = buffered.slice(at + 1);
    }
  });
}

/** Writes `message` to `stream` as one JSON line. */
export function writeMessage(stream, message) {
  stream.write(`${JSON.stringify(message)}\n`);
}
