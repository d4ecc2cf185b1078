package io.fastlitellm.upstream;

/** A call in progress: cancel it, or pause reading its response while the client cannot keep up. */
public interface UpstreamCall {

    /** Ends the call and frees its connection (closed, since its response is unfinished). Idempotent. */
    void cancel();

    /** Stops ({@code false}) or resumes ({@code true}) reading the response from the provider. */
    void setReading(boolean reading);
}
