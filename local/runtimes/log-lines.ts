import type { EventEmitter } from "node:events";

/** One line a function or a container wrote, as the local cloud keeps it. */
export interface LogLine {
  readonly source: string;
  readonly requestId?: string;
  readonly stream: "stdout" | "stderr";
  readonly line: string;
  readonly time: number;
}

/** Lines kept per runtime; past it the oldest half is dropped, so a long run cannot grow without bound. */
const MAX_LOG_LINES = 20_000;

/** Calls `each` with every non-blank line of a text stream (a chunk may end mid-line). */
export function onLines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) each(line);
    }
  });
}

/** Keeps a log line (bounded) and emits it as a `log` event. */
export function keepLog(logs: LogLine[], events: EventEmitter, entry: LogLine): void {
  if (logs.length > MAX_LOG_LINES) logs.splice(0, MAX_LOG_LINES / 2);
  logs.push(entry);
  events.emit("log", entry);
}
