/**
 * Turns of the event loop for batch work (queued tasks run by the gateway).
 * Such work waits here between its steps, and one step runs per turn: sockets
 * are read between any two, so an interactive request waits behind at most one
 * step of batch work however many batch tasks run at once. (Plain setImmediate
 * would run every waiting step back to back in one turn.)
 */
const waiting: Array<() => void> = [];
let scheduled = false;

function runOne(): void {
  const resolve = waiting.shift();
  // Queued from inside this callback, the next step runs on the next turn, after the poll for I/O.
  if (waiting.length > 0) setImmediate(runOne);
  else scheduled = false;
  resolve?.();
}

export function batchTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!scheduled) {
      scheduled = true;
      setImmediate(runOne);
    }
  });
}
