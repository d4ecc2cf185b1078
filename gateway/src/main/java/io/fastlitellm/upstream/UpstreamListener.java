package io.fastlitellm.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Receives one exchange's response, on the event loop the call was made from. Exactly one of
 * {@link #onFailure} or {@code onContent(..., last = true)} ends it; nothing comes after that or
 * after the call was cancelled. A content buffer is released when {@link #onContent} returns: a
 * listener that keeps it past the call retains it (and releases it when done).
 */
public interface UpstreamListener {

    void onHead(int status, HttpHeaders headers);

    /** A piece of the body as it arrives; {@code last} marks the end of the response. */
    void onContent(ByteBuf content, boolean last);

    void onFailure(UpstreamFailure failure);
}
