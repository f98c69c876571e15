/**
 * Incremental decoder of server-sent events (the WHATWG EventSource
 * grammar, `data` fields only): feed it the body's text as it arrives, in
 * chunks cut anywhere — inside a line, inside a CRLF — and it returns the
 * `data` payload of every event completed so far. Lines end with LF, CRLF
 * or CR; an event ends at a blank line; several `data:` lines join with LF;
 * comments (`:`) and other fields are skipped. An event not closed by a
 * blank line when the stream ends is dropped, as EventSource drops it.
 */
export class SseDecoder {
  private line = '';
  private data: string[] = [];
  /** The previous chunk ended with CR: an LF starting this one belongs to it. */
  private afterCr = false;

  push(chunk: string): string[] {
    const events: string[] = [];
    let start = 0;
    if (this.afterCr && chunk.startsWith('\n')) start = 1;
    this.afterCr = false;
    for (let i = start; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.endLine(this.line + chunk.slice(start, i), events);
      this.line = '';
      if (c === 13) {
        if (i + 1 === chunk.length) this.afterCr = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.line += chunk.slice(start);
    return events;
  }

  private endLine(line: string, events: string[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push(this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.data.push(value);
  }
}
