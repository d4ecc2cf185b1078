package io.fastlitellm.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fastlitellm.config.DeploymentConfig;

/** Counts a chat request's prompt tokens for the deployment's model (limits, routing, mock usage). */
@FunctionalInterface
interface PromptTokens {
    long count(DeploymentConfig deployment, ObjectNode body);
}
