package io.fastlitellm.provider;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Splits a server-sent-events byte stream into events as bytes arrive, whatever the piece
 * boundaries. Holds at most one incomplete event; a single event larger than {@code maxEventBytes}
 * is an error rather than unbounded memory. Not thread-safe: one per stream, on its event loop.
 */
final class SseDecoder {
    /** Receives each complete event: its {@code event:} name (or null) and its {@code data:} payload. */
    interface Listener {
        void onEvent(String event, ByteBuf data);
    }

    private final ByteBuf pending;
    private final int maxEventBytes;

    SseDecoder(ByteBufAllocator alloc, int maxEventBytes) {
        this.pending = alloc.buffer(1024);
        this.maxEventBytes = maxEventBytes;
    }

    /** Feeds bytes (not retained); returns false when an event grew past the limit. */
    boolean feed(ByteBuf in, Listener listener) {
        pending.writeBytes(in);
        while (true) {
            int end = eventEnd();
            if (end < 0) {
                return pending.readableBytes() <= maxEventBytes;
            }
            int start = pending.readerIndex();
            dispatch(start, end, listener);
            pending.readerIndex(skipSeparator(end));
            pending.discardSomeReadBytes();
        }
    }

    void release() {
        pending.release();
    }

    /** Index of the first byte of the blank line that ends the next event, or -1. */
    private int eventEnd() {
        int from = pending.readerIndex();
        int to = pending.writerIndex();
        for (int i = from; i < to - 1; i++) {
            byte b = pending.getByte(i);
            if (b == '\n') {
                byte n = pending.getByte(i + 1);
                if (n == '\n') {
                    return i;
                }
                if (n == '\r' && i + 2 < to && pending.getByte(i + 2) == '\n') {
                    return i;
                }
            }
        }
        return -1;
    }

    private int skipSeparator(int end) {
        int i = end + 1;
        if (pending.getByte(i) == '\r') {
            i++;
        }
        return i + 1;
    }

    private void dispatch(int start, int end, Listener listener) {
        String event = null;
        ByteBuf data = null;
        int line = start;
        while (line <= end) {
            int eol = pending.indexOf(line, end + 1, (byte) '\n');
            if (eol < 0) {
                eol = end + 1;
            }
            int lineEnd = eol > line && pending.getByte(eol - 1) == '\r' ? eol - 1 : eol;
            if (startsWith(line, lineEnd, "data:")) {
                int v = line + 5;
                if (v < lineEnd && pending.getByte(v) == ' ') {
                    v++;
                }
                ByteBuf piece = pending.retainedSlice(v, lineEnd - v);
                if (data == null) {
                    data = piece;
                } else {
                    // Multi-line data joins with a newline, as the SSE spec says.
                    ByteBuf joined = pending.alloc().buffer(data.readableBytes() + 1 + piece.readableBytes());
                    joined.writeBytes(data).writeByte('\n').writeBytes(piece);
                    data.release();
                    piece.release();
                    data = joined;
                }
            } else if (startsWith(line, lineEnd, "event:")) {
                event = pending.toString(line + 6, lineEnd - line - 6, StandardCharsets.UTF_8).trim();
            }
            line = eol + 1;
        }
        if (data != null) {
            // Copy out of the shared buffer: the listener may keep it after pending moves on.
            ByteBuf owned = data.alloc().buffer(data.readableBytes()).writeBytes(data);
            data.release();
            listener.onEvent(event, owned);
        }
    }

    private boolean startsWith(int from, int to, String prefix) {
        if (to - from < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (pending.getByte(from + i) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
