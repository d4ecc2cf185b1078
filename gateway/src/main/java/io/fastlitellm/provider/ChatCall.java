package io.fastlitellm.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fastlitellm.config.DeploymentConfig;
import io.netty.util.concurrent.EventExecutor;

/**
 * One call to one deployment: a chat completion, a text completion or embeddings.
 *
 * @param kind which OpenAI endpoint the client called
 * @param deployment the deployment chosen for this attempt
 * @param body the client's request body, already validated (the provider may not modify it)
 * @param stream whether the client asked for a stream
 * @param includeUsage {@code stream_options.include_usage}: send a final chunk with usage
 * @param promptTokens the prompt's tokens as the gateway counted them
 * @param executor the event loop the sink must be called on
 */
public record ChatCall(
        ApiKind kind,
        DeploymentConfig deployment,
        ObjectNode body,
        boolean stream,
        boolean includeUsage,
        long promptTokens,
        EventExecutor executor) {
}
