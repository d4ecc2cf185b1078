package io.fastlitellm.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;

/**
 * One HTTP request to a provider. The body is owned by the client once sent.
 *
 * @param uri absolute http(s) URI
 * @param headers request headers (Host, Content-Length and Connection are set by the client)
 * @param firstByteTimeoutMs budget until the response head arrives (0: none)
 * @param idleTimeoutMs budget between two pieces of the response body (0: none)
 * @param totalTimeoutMs budget for the whole exchange (0: none)
 */
public record UpstreamRequest(HttpMethod method, URI uri, HttpHeaders headers, ByteBuf body,
                              long firstByteTimeoutMs, long idleTimeoutMs, long totalTimeoutMs) {
}
