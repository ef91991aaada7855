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
  // A line may span many chunks (a function's 6 MB answer arrives in 64 KB pieces): the pieces are joined once,
  // when its end arrives, not at every chunk.
  let pieces: string[] = [];
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf("\n", start)) >= 0) {
      pieces.push(chunk.slice(start, nl));
      const line = pieces.length === 1 ? pieces[0]! : pieces.join("");
      pieces = [];
      start = nl + 1;
      if (line.trim()) each(line);
    }
    if (start < chunk.length) pieces.push(chunk.slice(start));
  });
}

/** Keeps a log line (bounded) and emits it as a `log` event. */
export function keepLog(logs: LogLine[], events: EventEmitter, entry: LogLine): void {
  if (logs.length > MAX_LOG_LINES) logs.splice(0, MAX_LOG_LINES / 2);
  logs.push(entry);
  events.emit("log", entry);
}
